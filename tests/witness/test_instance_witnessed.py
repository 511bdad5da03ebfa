"""A Dangan instance whose ledger asks two real witness processes to cosign each checkpoint
(`bootstrap.make_cosigner`): the stored checkpoint note carries both cosignatures, growth is
cosigned with the consistency proof read from the database, after a restart too, and an
outsider's `dangan ledger check --witness … --quorum 2` accepts the proof bundle."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dangan.audit.services import latest_checkpoint, prove_entry
from dangan.bootstrap import bootstrap
from dangan.cli.main import app
from dangan.core.clock import utcnow
from dangan.crypto import verifier_for
from dangan.instance.lifecycle import initialise
from dangan.ledger.events import audit_event
from dangan.ledger.note import parse_note, witnessed_by
from dangan.usecase import Actor
from dangan.witness.domain import trusted_log
from dangan.witness.keys import STATE_FILE
from dangan.witness.state import WitnessState
from tests.archive_kit import make_settings
from tests.witness.kit import Witness

ORIGIN = "dangan.test/witnessed"


def test_the_instance_checkpoints_are_cosigned(
    tmp_path: Path, witness: Witness, witness2: Witness
) -> None:
    data, db = tmp_path / "inst", f"sqlite:///{tmp_path / 'dangan.db'}"
    initialise(make_settings(data, db, instance_name=ORIGIN))  # its key, before any witness
    public = bytes.fromhex(json.loads((data / "keys" / "keys.json").read_text())["public_key"])
    for w in (witness, witness2):
        key = trusted_log(ORIGIN, "sm3", ORIGIN, "sm2-sm3", public.hex())
        WitnessState(w.directory / STATE_FILE).trust(ORIGIN, "sm3", key)
    configured = [
        {"name": w.name, "url": w.url, "public_key": w.public_key.hex()}
        for w in (witness, witness2)
    ]
    ledger = {"witnesses": configured, "witness_quorum": 2, "witness_timeout": 5.0}
    settings = make_settings(data, db, instance_name=ORIGIN, ledger=ledger)
    keys = {w.name: w.public_key for w in (witness, witness2)}
    cli = Actor.internal("cli")

    sizes = []
    for _ in range(2):  # the second time as after a restart: the witnesses' 409s tell the sizes
        c = bootstrap(settings)
        try:
            for _ in range(2):
                c.sequencer.append([audit_event("test.appended", "cli", utcnow(), "ok")])
                cp = latest_checkpoint(c, cli)  # one batch: one checkpoint, then its witnesses
                assert witnessed_by(parse_note(cp.note), keys, verifier_for("ed25519")) == set(keys)
                assert witness.latest(ORIGIN).size == witness2.latest(ORIGIN).size == cp.size
                sizes.append(cp.size)
            bundle = prove_entry(c, cli, 0)
        finally:
            c.close()
    assert sizes == sorted(set(sizes))

    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(bundle))
    options = [f"--witness={n}={k.hex()}" for n, k in keys.items()]
    args = ["ledger", "check", str(proof), "--public-key", public.hex(), *options]
    done = CliRunner().invoke(app, [*args, "--quorum", "2"])
    assert done.exit_code == 0, done.output
