"""k of n: `check_witnessed` and `dangan ledger check --witness NAME=HEX --quorum K`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dangan.cli.main import app
from dangan.core.canonical import canonical_json
from dangan.crypto import IntlSuite, verifier_for
from dangan.ledger.domain import MemoryTree, leaf_hash
from dangan.ledger.note import ED25519, CheckpointText, check_witnessed, cosign, sign_note
from dangan.witness.keys import create_key
from tests.witness.kit import Log

runner = CliRunner()


def _json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


def test_check_witnessed_k_of_n(tmp_path: Path) -> None:
    log = Log.new("log.example/k", leaves=3)
    keys = [create_key(tmp_path / f"w{i}", f"witness.example/w{i}") for i in range(3)]
    trusted = {k.name: k.public_key for k in keys}
    note = log.note()
    two = note.with_signatures(
        cosign(note.text, k.name, k.public_key, 1_700_000_000, k.sign) for k in keys[:2]
    )
    verify = verifier_for("ed25519")
    assert check_witnessed(two, trusted, 2, verify) == []
    assert check_witnessed(two, trusted, 1, verify) == []
    assert "2 of 3 trusted witnesses cosigned" in check_witnessed(two, trusted, 3, verify)[0]
    assert check_witnessed(note, trusted, 1, verify)  # none
    assert check_witnessed(two, trusted, 4, verify)[0].startswith("the quorum 4 exceeds")
    forged = two.with_signatures(
        [cosign(note.text, keys[2].name, keys[2].public_key, 1, keys[0].sign)]
    )  # w2's name and key ID, someone else's signature
    assert check_witnessed(forged, trusted, 2, verify) == [
        "a cosignature by witness witness.example/w2 does not verify"
    ]


def _bundle(tmp_path: Path, cosigners: int) -> tuple[dict[str, Any], IntlSuite, list[str]]:
    """A proof bundle of entry 2 in a tree of 5 whose checkpoint note is cosigned by the first
    `cosigners` of three witnesses; and the `--witness NAME=HEX` options for all three."""
    suite = IntlSuite.generate()
    tree, events = MemoryTree(suite.hash), []
    for seq in range(5):
        events.append(canonical_json({"seq": seq, "event": "test"}).decode())
        tree.append(leaf_hash(suite.hash, events[-1].encode()))
    text = CheckpointText("dangan", 5, tree.root()).text()
    note = sign_note(text, "dangan", ED25519, suite.public_key(), suite.sign)
    keys = [create_key(tmp_path / f"w{i}", f"witness.example/w{i}") for i in range(3)]
    note = note.with_signatures(
        cosign(text, k.name, k.public_key, 1_700_000_000, k.sign) for k in keys[:cosigners]
    )
    bundle = {
        "seq": 2,
        "tree_size": 5,
        "event": events[2],
        "audit_path": [h.hex() for h in tree.inclusion_path(2)],
        "checkpoint": note.render(),
        "hash": "sha256",
        "sign": "ed25519",
    }
    return bundle, suite, [f"{k.name}={k.public_key.hex()}" for k in keys]


def _check(path: Path, suite: IntlSuite, *options: str) -> tuple[int, Any]:
    args = ["ledger", "check", str(path), "--public-key", suite.public_key().hex()]
    done = runner.invoke(app, [*args, "--suite", "intl", *options])
    return done.exit_code, _json(done.output)


def test_ledger_check_with_k_of_n_witnesses(tmp_path: Path) -> None:
    bundle, suite, witnesses = _bundle(tmp_path, cosigners=2)
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(bundle))
    w = [opt for pair in (("--witness", x) for x in witnesses) for opt in pair]
    code, out = _check(path, suite)
    assert (code, "witnesses" in out) == (0, False)  # none asked for: not checked
    code, out = _check(path, suite, *w, "--quorum", "2")
    assert (code, out["witnesses"]["problems"]) == (0, [])
    code, out = _check(path, suite, *w)  # default: all three
    assert code == 1
    assert out["problems"] == [
        "checkpoint 5: 2 of 3 trusted witnesses cosigned "
        "(witness.example/w0, witness.example/w1); 3 required"
    ]
    assert _check(path, suite, *w[:2], "--quorum", "1")[0] == 0

    note = tmp_path / "checkpoint.txt"  # a saved checkpoint note is checked the same way
    note.write_text(bundle["checkpoint"])
    assert _check(note, suite, *w, "--quorum", "2")[0] == 0
    assert _check(note, suite, *w, "--quorum", "3")[0] == 1

    bad = runner.invoke(app, ["ledger", "check", str(path), "--public-key", "00", "--witness", "x"])
    assert bad.exit_code == 2
