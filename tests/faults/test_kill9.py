"""Nothing lost: SIGKILL a process that ingests and appends ledger events from many threads
(group commit batches in flight) at random moments, then check the invariants.

After every kill: recovery runs (queued events sequenced, copies caught up, outbox drained,
unacknowledged staged content discarded); every acknowledged submission is present and
verifies on every replica; no half-record is visible; piece numbers are continuous; every
acknowledged ledger append is at its position, with its leaf hash, in the database and in
every storage copy; no tree size was ever signed with two roots (database, every copy's
segments and latest checkpoint); the whole ledger verifies against copies and receipts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from dangan.audit.services import verify_ledger
from dangan.bootstrap import Container, bootstrap
from dangan.instance.lifecycle import recover_instance
from dangan.ledger import checkpoints, mirror
from dangan.ledger.models import LedgerEntry
from dangan.ledger.note import parse_checkpoint, parse_note
from dangan.records.models import OutboxItem, Record
from tests.archive_kit import OPERATOR, make_settings, new_instance, verify
from tests.ocfl_check import validate

KILLS = int(os.environ.get("DANGAN_KILLS", "20"))
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Appended:
    tag: str
    seq: int
    leaf_hash: bytes
    checkpoint_size: int
    roots: int


def _acknowledged(ack: Path) -> tuple[dict[str, tuple[str, str]], list[Appended]]:
    """(submissions: source id → (archival code, record id), ledger appends)."""
    if not ack.exists():
        return {}, []
    ingested, appended = {}, []
    for line in ack.read_text().splitlines():
        kind, *fields = line.split("\t")
        if kind == "I":
            sid, code, rid = fields
            ingested[sid] = (code, rid)
        else:
            tag, seq, leaf, size, roots = fields
            appended.append(Appended(tag, int(seq), bytes.fromhex(leaf), int(size), int(roots)))
    return ingested, appended


def _run_and_kill(
    data_dir: Path, db_url: str, start: int, ack: Path, rng: random.Random, run: int
) -> None:
    log = ack.with_suffix(".stderr")
    with (
        log.open("w") as err,
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.faults.ingest_worker",
                str(data_dir),
                db_url,
                str(start),
                "1000",
                str(ack),
                str(run),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        ) as proc,
    ):
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", log.read_text()
        # Long enough to land anywhere: first-use loading, staging, the transaction, the outbox.
        time.sleep(rng.uniform(0.05, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _check_invariants(c: Container, acked: dict[str, tuple[str, str]], to_verify: set[str]) -> None:
    with c.sessions() as s:
        records = list(s.scalars(select(Record)))
        by_source = {r.source_id: r for r in records}
        for sid, (code, rid) in acked.items():
            rec = by_source.get(sid)
            assert rec is not None, f"acknowledged {sid} lost"
            assert (rec.archival_code, rec.id) == (code, rid)
        for rec in records:  # no half-record
            assert rec.files, rec.id
            assert rec.versions, rec.id
            assert rec.ledger_seq is not None
            assert rec.receipt_json
        pieces = sorted(r.piece for r in records if r.piece is not None)
        assert pieces == list(range(1, len(pieces) + 1))
        assert list(s.scalars(select(OutboxItem).where(OutboxItem.done_at.is_(None)))) == []
    for root in c.roots:
        assert root.incomplete_objects() == []
        assert set(root.list_objects()) == {r.id for r in records}
    for sid in to_verify:
        result = verify(c, acked[sid][1])
        assert result.ok, result.problems


def _check_ledger(c: Container, appended: list[Appended]) -> None:
    report = verify_ledger(c, OPERATOR)  # entries, nodes, checkpoints, copies, receipts, links
    assert report.ok, report.as_dict()["findings"]
    with c.sessions() as s:
        texts = list(s.scalars(select(LedgerEntry.event).order_by(LedgerEntry.seq)))
        leaves = dict(s.execute(select(LedgerEntry.seq, LedgerEntry.leaf_hash)).all())
        signed = {cp.size: cp.root for cp in checkpoints.every(s)}
    for a in appended:  # acknowledged: in the database where it was said to be
        assert a.roots >= 1, a
        assert bytes(leaves[a.seq]) == a.leaf_hash, a
        assert json.loads(texts[a.seq])["details"]["tag"] == a.tag
        assert a.checkpoint_size in signed, a
    for root in c.roots:  # ... and in every copy, which signed nothing the database did not
        copy, notes = mirror.entries(root.store)
        assert copy == texts, root.store.name
        for note, _ in notes:
            cp = parse_checkpoint(parse_note(note).text)
            assert signed.get(cp.size) == cp.root, f"size {cp.size} signed twice"
        latest = mirror.read_latest(root.store)
        assert latest is not None
        assert signed.get(latest[0].size) == latest[0].root


@pytest.mark.slow
def test_kill9_at_random_moments_loses_nothing(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "inst"
    new_instance(data_dir, db_url).close()
    ack = tmp_path / "acknowledged.tsv"
    rng = random.Random(20261121)
    next_id = 1
    verified: set[str] = set()
    appended = 0
    for run in range(KILLS):
        _run_and_kill(data_dir, db_url, next_id, ack, rng, run)
        acked, appends = _acknowledged(ack)
        c = bootstrap(make_settings(data_dir, db_url))
        try:
            recover_instance(c)
            new = set(acked) - verified
            _check_invariants(c, acked, new)
            _check_ledger(c, appends)
            verified |= new
            appended = len(appends)
        finally:
            c.close()
        # Resume after the last acknowledged one: the in-flight submission is retried, which
        # exercises idempotency when its commit had landed without the acknowledgement.
        next_id = 1 + max((int(s.split("-")[1]) for s in acked), default=0)
    assert len(verified) >= KILLS, "the kills should land mid-stream, not only at start-up"
    assert appended >= 10 * KILLS, "appends from many threads should be in flight"
    # After recovery the roots are valid OCFL: no stray temp files, no empty directories.
    c = bootstrap(make_settings(data_dir, db_url))
    try:
        for root in c.roots:
            ok, errors = validate(Path(root.store.root))  # type: ignore[attr-defined]
            assert ok, errors
    finally:
        c.close()
