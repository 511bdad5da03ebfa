"""`dangan witness init|trust|status|serve`, in-process through Typer's runner (the served
witness is tested in test_witness_process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dangan.cli.main import app
from tests.witness.kit import Log

runner = CliRunner()


def _json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


def test_init_trust_and_status(tmp_path: Path) -> None:
    d = str(tmp_path / "w")
    made = runner.invoke(app, ["witness", "init", "--dir", d, "--name", "witness.example/w1"])
    assert made.exit_code == 0, made.output
    public = _json(made.output)["public_key"]
    assert len(bytes.fromhex(public)) == 32
    assert public in made.output
    again = runner.invoke(app, ["witness", "init", "--dir", d, "--name", "witness.example/w1"])
    assert again.exit_code == 2
    assert "witness_exists" in again.output
    log = Log.new("log.example/cli", "sm2-sm3")
    trust = ["witness", "trust", "--dir", d, "--origin", log.origin, "--public-key"]
    ok = runner.invoke(app, [*trust, log.public_key.hex(), "--sign", "sm2-sm3", "--hash", "sm3"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, [*trust, "00" * 5, "--sign", "ed25519", "--hash", "sha256"])
    assert bad.exit_code == 2
    assert "bad_public_key" in bad.output
    other_hash = runner.invoke(app, [*trust, "11" * 32, "--sign", "ed25519", "--hash", "sha256"])
    assert other_hash.exit_code == 2
    assert "log_hash_differs" in other_hash.output
    status = _json(runner.invoke(app, ["witness", "status", "--dir", d]).output)
    assert status == {
        "name": "witness.example/w1",
        "public_key": public,
        "logs": {log.origin: None},
    }
    missing = runner.invoke(app, ["witness", "serve", "--dir", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert "witness_missing" in missing.output
