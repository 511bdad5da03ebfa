"""A Dangan instance whose ledger asks two real witness processes to cosign each checkpoint
(`bootstrap.make_cosigner`): the stored checkpoint note carries both cosignatures, growth is
cosigned with the consistency proof read from the database, after a restart too, and an
outsider's `dangan ledger check --witness … --quorum 2` accepts the proof bundle."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, update
from typer.testing import CliRunner

from dangan.audit.services import latest_checkpoint, prove_entry, verify_ledger
from dangan.bootstrap import bootstrap
from dangan.cli.main import app
from dangan.core.clock import utcnow
from dangan.crypto import verifier_for
from dangan.instance.lifecycle import initialise
from dangan.ledger import mirror
from dangan.ledger.events import audit_event
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from dangan.ledger.note import parse_note, witnessed_by
from dangan.settings import Settings
from dangan.usecase import Actor
from dangan.witness.domain import trusted_log
from dangan.witness.keys import STATE_FILE
from dangan.witness.state import WitnessState
from tests.archive_kit import make_settings
from tests.witness.kit import Witness

ORIGIN = "dangan.test/witnessed"


def witnessed_instance(
    tmp_path: Path, origin: str, *witnesses: Witness
) -> tuple[Settings, bytes, dict[str, bytes]]:
    """Settings of a new instance every witness trusts; its public key; the witnesses' keys."""
    data, db = tmp_path / "inst", f"sqlite:///{tmp_path / 'dangan.db'}"
    initialise(make_settings(data, db, instance_name=origin))  # its key, before any witness
    public = bytes.fromhex(json.loads((data / "keys" / "keys.json").read_text())["public_key"])
    for w in witnesses:
        key = trusted_log(origin, "sm3", origin, "sm2-sm3", public.hex())
        WitnessState(w.directory / STATE_FILE).trust(origin, "sm3", key)
    configured = [
        {"name": w.name, "url": w.url, "public_key": w.public_key.hex()} for w in witnesses
    ]
    ledger = {"witnesses": configured, "witness_quorum": len(witnesses), "witness_timeout": 5.0}
    settings = make_settings(data, db, instance_name=origin, ledger=ledger)
    return settings, public, {w.name: w.public_key for w in witnesses}


def test_the_instance_checkpoints_are_cosigned(
    tmp_path: Path, witness: Witness, witness2: Witness
) -> None:
    settings, public, keys = witnessed_instance(tmp_path, ORIGIN, witness, witness2)
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


def test_a_rollback_everywhere_with_the_stolen_key_is_refused_by_the_witnesses(
    tmp_path: Path, witness: Witness, witness2: Witness
) -> None:
    """An insider with the signing key cuts the log back to size 2 in the database and in
    every storage copy (latest checkpoint included), so that Dangan itself sees a whole,
    consistent log. The next checkpoint (size 3, beside the cosigned 4) is refused by both
    witnesses; the append stays durable, and `ledger verify` says the log lacks its
    witnesses at exactly that checkpoint."""
    origin = "dangan.test/rolled-back"
    settings, _, _ = witnessed_instance(tmp_path, origin, witness, witness2)
    cli = Actor.internal("cli")
    c = bootstrap(settings)
    try:
        for n in range(4):
            c.sequencer.append(
                [audit_event("test.appended", "cli", utcnow(), "ok", details={"n": n})]
            )
        assert witness.latest(origin).size == witness2.latest(origin).size == 4
        assert verify_ledger(c, cli).ok

        with c.sessions.begin() as s:  # the database, cut to 2
            s.execute(delete(LedgerEntry).where(LedgerEntry.seq >= 2))
            s.execute(delete(LedgerNode).where(LedgerNode.seq >= 2))
            s.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.size > 2))
            s.execute(update(LedgerHead).values(size=2))
        for root in c.roots:  # every copy, cut to 2, its latest checkpoint the one of size 2
            store = root.store
            for start, end in mirror.segments(store):
                if end > 2:
                    store.delete(mirror.segment_key(start, end))
            kept = mirror.read_segment(store, *mirror.segments(store)[-1])
            store.put(mirror.LATEST, kept.checkpoint.encode())

        c.sequencer.append([audit_event("test.appended", "cli", utcnow(), "ok", details={"n": 99})])
        trouble = c.sequencer.witness_trouble
        assert trouble is not None
        assert trouble.code == "witness_quorum_not_met"
        assert {p.code for p in trouble.problems} == {"witness_ahead"}
        # the witnesses keep what they cosigned
        assert witness.latest(origin).size == witness2.latest(origin).size == 4

        report = verify_ledger(c, cli)
        assert report.size == 3
        assert {(p.code, p.seq_range) for p in report.problems} == {
            ("checkpoint_not_witnessed", (0, 3))
        }
    finally:
        c.close()
