"""A submission whose transaction does not commit leaves nothing in the storage roots, on SQLite
and PostgreSQL: its content is staged in every root before the transaction, and removed again
at once when the ledger refuses the commit, a constraint fails at the commit, or anything else
fails after staging — while a committed record's content is never touched, even when what
follows its commit fails."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from dangan.arrangement.models import PieceCounter
from dangan.bootstrap import Container
from dangan.core.errors import IntegrityFailure
from dangan.instance.lifecycle import recover_instance
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from dangan.records.domain import record_id_for
from dangan.records.models import Record
from dangan.storage import OcflStorageRoot
from tests.archive_kit import counts, ingest, new_instance, notice, verify

ARCHIVED = 3


@pytest.fixture
def archive(tmp_path: Path, db_url: str) -> Iterator[Container]:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        for n in range(1, ARCHIVED + 1):
            ingest(c, notice(tmp_path / "in", n))
        yield c
    finally:
        c.close()


def keys(c: Container) -> dict[str, set[str]]:
    """Every file in every root (content, packages, ledger copies, receipts)."""
    return {root.store.name: set(root.store.list("")) for root in c.roots}


def object_keys(c: Container, record_id: str) -> dict[str, set[str]]:
    """The files of one record's object directory in every root."""
    return {root.store.name: set(root.store.list(root.object_root(record_id))) for root in c.roots}


def cut_tail(c: Container, keep: int) -> None:
    """Set the database's log back to `keep` entries (as test_ledger_tamper): the copies and
    the checkpoint signed outside the database know better, so the next commit is refused."""
    with c.sessions.begin() as s:
        s.execute(delete(LedgerEntry).where(LedgerEntry.seq >= keep))
        s.execute(delete(LedgerNode).where(LedgerNode.seq >= keep))
        s.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.size > keep))
        s.execute(update(LedgerHead).values(size=keep))


def test_a_submission_the_ledger_refuses_leaves_no_staged_content(
    archive: Container, tmp_path: Path
) -> None:
    c = archive
    cut_tail(c, ARCHIVED - 1)
    before, catalogue = keys(c), counts(c)
    sub = notice(tmp_path / "in", 9)
    with pytest.raises(IntegrityFailure) as refused:
        ingest(c, sub)
    assert refused.value.code == "ledger_rolled_back"
    assert counts(c) == catalogue  # nothing in the catalogue
    assert keys(c) == before  # and nothing left in any root
    rid = record_id_for(sub.source_system, sub.source_id)
    assert all(not found for found in object_keys(c, rid).values())

    # recover has nothing of the refused submission left to discard, and the next goes in
    assert recover_instance(c)["orphans_discarded"] == []
    receipt = ingest(c, sub)
    assert receipt["record_id"] == rid
    assert verify(c, rid).ok
    assert all(rid in root.list_objects() for root in c.roots)


def test_a_constraint_failing_at_the_commit_leaves_no_staged_content(
    archive: Container, tmp_path: Path
) -> None:
    """The piece counter set back: the next archival code is one already given, and the
    records table's unique constraint refuses the row inside the transaction."""
    c = archive
    with c.sessions.begin() as s:
        s.execute(update(PieceCounter).values(last_piece=0))
    before, catalogue = keys(c), counts(c)
    with pytest.raises(IntegrityError):
        ingest(c, notice(tmp_path / "in", 9))
    assert counts(c) == catalogue
    assert keys(c) == before

    with c.sessions.begin() as s:
        s.execute(update(PieceCounter).values(last_piece=ARCHIVED))
    receipt = ingest(c, notice(tmp_path / "in", 9))
    assert receipt["archival_code"].endswith(f"-{ARCHIVED + 1:04d}")
    assert verify(c, receipt["record_id"]).ok


def test_content_is_kept_when_what_follows_the_commit_fails(
    archive: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record and its queued event committed, then waiting for the ledger's batch failed
    (inside the unit of work): the content is the record's own and stays; recover sequences
    the event and completes the receipt and the package."""
    c = archive

    def lost(*_args: object) -> None:
        raise OSError("the sequencer went away")

    monkeypatch.setattr(c.sequencer, "await_queued", lost)
    sub = notice(tmp_path / "in", 9)
    rid = record_id_for(sub.source_system, sub.source_id)
    with pytest.raises(OSError, match="sequencer"):
        ingest(c, sub)
    monkeypatch.undo()
    with c.sessions() as s:
        assert s.get(Record, rid) is not None  # committed
    staged = object_keys(c, rid)
    assert all(staged.values())
    done = recover_instance(c)
    assert done["orphans_discarded"] == []
    assert done["receipts_completed"] == 1
    assert all(object_keys(c, rid)[name] >= staged[name] for name in staged)
    assert verify(c, rid).ok


def test_a_successful_submission_is_not_touched_by_a_refused_one(
    archive: Container, tmp_path: Path
) -> None:
    c = archive
    with c.sessions() as s:
        ids = list(s.scalars(select(Record.id)))
    kept = {rid: object_keys(c, rid) for rid in ids}
    cut_tail(c, ARCHIVED - 1)
    with pytest.raises(IntegrityFailure):
        ingest(c, notice(tmp_path / "in", 9))
    assert {rid: object_keys(c, rid) for rid in ids} == kept
    # the content of every record is intact; the one whose event was cut says exactly that
    found = {}
    for rid in ids:
        result = verify(c, rid)
        assert all(p.startswith("[ledger_") for p in result.problems)
        found[result.ledger_positions[0]] = [(f.code, f.seq) for f in result.ledger_findings]
    assert found == {
        **{seq: [] for seq in range(ARCHIVED - 1)},
        ARCHIVED - 1: [("ledger_entry_missing", ARCHIVED - 1), ("ledger_version_unrecorded", None)],
    }


def test_content_that_cannot_be_removed_is_logged_and_left_for_recover(
    archive: Container,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    c = archive
    stuck = c.roots[0]
    discard = OcflStorageRoot.discard_incomplete

    def refuse_on_first(root: OcflStorageRoot, object_id: str) -> int:
        if root is stuck:
            raise OSError("device busy")
        return discard(root, object_id)

    monkeypatch.setattr(OcflStorageRoot, "discard_incomplete", refuse_on_first)
    cut_tail(c, ARCHIVED - 1)
    sub = notice(tmp_path / "in", 9)
    rid = record_id_for(sub.source_system, sub.source_id)
    with caplog.at_level(logging.WARNING, logger="dangan.records"), pytest.raises(IntegrityFailure):
        ingest(c, sub)
    # the ledger's refusal is what the caller sees; the failed removal is logged
    assert any(rid in r.getMessage() and stuck.store.name in r.getMessage() for r in caplog.records)
    left = object_keys(c, rid)
    assert left[stuck.store.name]
    assert all(not found for name, found in left.items() if name != stuck.store.name)
    monkeypatch.undo()
    discarded = recover_instance(c)["orphans_discarded"]
    assert discarded == [f"{stuck.store.name}:{stuck.object_root(rid)}"]
    assert all(not found for found in object_keys(c, rid).values())
