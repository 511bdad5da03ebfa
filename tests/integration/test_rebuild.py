"""`rebuild` recreates the catalogue from the storage roots alone (database dropped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dangan.access.models import RecordAccess
from dangan.arrangement.models import PieceCounter
from dangan.bootstrap import Container
from dangan.core.errors import IntegrityFailure
from dangan.instance.lifecycle import recover_instance, reset_catalogue
from dangan.ledger import mirror
from dangan.ledger.models import LedgerEntry
from dangan.records.domain import IncomingFile, Submission
from dangan.records.models import CheckReport, Record
from dangan.records.rebuild import rebuild_catalogue
from dangan.records.services import confirm
from tests.archive_kit import (
    OPERATOR,
    UNCLASSIFIABLE,
    archivist,
    find,
    ingest,
    new_instance,
    notice,
    write_doc,
)


def snapshot(c: Container) -> dict[str, Any]:
    """Everything the catalogue knows that storage must bring back."""
    with c.sessions() as s:
        records = {}
        for r in s.scalars(select(Record).order_by(Record.id)):
            records[r.id] = {
                "cols": {
                    k: getattr(r, k)
                    for k in (
                        "fonds_code",
                        "category_code",
                        "status",
                        "archival_code",
                        "year",
                        "retention",
                        "org_code",
                        "piece",
                        "title",
                        "document_number",
                        "author",
                        "doc_date",
                        "source_system",
                        "source_id",
                        "submission_digest",
                        "version",
                    )
                },
                "received": r.received_at.replace(tzinfo=None),
                "files": [
                    (f.name, f.size, f.sha256, f.sm3, f.format_name, f.pages) for f in r.files
                ],
                "versions": [
                    (v.version, json.loads(v.metadata_json), v.signature_json) for v in r.versions
                ],
            }
        reports = sorted(
            (
                (r.record_id, r.stage, r.passed, json.loads(r.report_json))
                for r in s.scalars(select(CheckReport))
            ),
            key=lambda t: (t[0], t[1]),
        )
        ledger = [
            (e.seq, e.event, e.leaf_hash)
            for e in s.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))
        ]
        counters = sorted(
            (p.fonds, p.category, p.year, p.retention, p.org, p.last_piece)
            for p in s.scalars(select(PieceCounter))
        )
        access = sorted(
            (a.record_id, a.security_classification, a.openness, a.owner_department_id)
            for a in s.scalars(select(RecordAccess))
        )
    return {
        "records": records,
        "counters": counters,
        "reports": reports,
        "ledger": ledger,
        "access": access,
    }


def test_drop_database_and_rebuild_from_storage(tmp_path: Path, db_url: str) -> None:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        for n in range(1, 5):
            ingest(c, notice(tmp_path / "in", n))
        path = write_doc(tmp_path / "in", "misc.txt", "杂项材料正文")
        queued = ingest(
            c, Submission("oa", "Q1", dict(UNCLASSIFIABLE), [IncomingFile(path, path.name)])
        )
        path2 = write_doc(tmp_path / "in", "misc2.txt", "另一份杂项材料")
        queued2 = ingest(
            c, Submission("oa", "Q2", dict(UNCLASSIFIABLE), [IncomingFile(path2, path2.name)])
        )
        confirm(c, archivist("archivist"), queued2["record_id"], retention="D10", org="BGS")
        recover_instance(c)  # an orderly state: the ledger copies fully up to date
        before = snapshot(c)
        assert len(before["records"]) == 6

        reset_catalogue(c)  # as if the database were lost
        assert snapshot(c) == {
            "records": {},
            "counters": [],
            "reports": [],
            "ledger": [],
            "access": [],
        }

        report = rebuild_catalogue(c, OPERATOR)
        assert report.records == 6
        assert report.ledger_entries == len(before["ledger"]) == 7
        assert report.skipped == []
        after = snapshot(c)
        # The ledger is back entry for entry, followed by the rebuild's own event.
        assert after["ledger"][:-1] == before["ledger"]
        assert json.loads(after["ledger"][-1][1])["type"] == "catalogue.rebuilt"
        assert {**after, "ledger": before["ledger"]} == before
        # The index is back, and numbering carries on from the rebuilt counters.
        assert find(c, "安全生产")["total"] == 4
        nxt = ingest(c, notice(tmp_path / "in", 5))
        assert nxt["archival_code"].endswith("-0005")
        with c.sessions() as s:
            assert s.get(Record, queued["record_id"]).status == "pending_review"
            assert c.ledger.verify(s).ok
    finally:
        c.close()


def test_tampered_ledger_copy_is_caught_after_rebuild(tmp_path: Path, sqlite_url: str) -> None:
    c = new_instance(tmp_path / "inst", sqlite_url)
    try:
        for n in range(1, 6):
            ingest(c, notice(tmp_path / "in", n))
        recover_instance(c)
        for root in c.roots:  # an intruder edits entry 2 in every copy
            store = root.store
            start, end = next(sp for sp in mirror.segments(store) if sp[0] <= 2 < sp[1])
            key = mirror.segment_key(start, end)
            store.put(key, store.get(key).replace(b"OA-3", b"OA-9"))
        reset_catalogue(c)
        # The copies no longer match the checkpoint they signed: nothing more is signed.
        with pytest.raises(IntegrityFailure) as refused:
            rebuild_catalogue(c, OPERATOR)
        assert refused.value.code == "ledger_forked"
        with c.sessions() as s:
            report = c.ledger.verify(s)
        assert not report.ok
        assert 2 in {p.seq for p in report.problems} or any(
            p.seq_range and p.seq_range[0] <= 2 < p.seq_range[1] for p in report.problems
        )
    finally:
        c.close()


def test_the_ledger_copy_never_lags_an_acknowledged_entry(tmp_path: Path, sqlite_url: str) -> None:
    """An append returns only once its batch is in the storage roots: after every ingest
    each root's copy holds the whole log and its latest checkpoint."""
    c = new_instance(tmp_path / "inst", sqlite_url)
    try:
        for n in range(1, 6):
            ingest(c, notice(tmp_path / "in", n))
            with c.sessions() as s:
                size = c.ledger.size(s)
                texts = list(s.scalars(select(LedgerEntry.event).order_by(LedgerEntry.seq)))
            for root in c.roots:
                latest = mirror.read_latest(root.store)
                assert latest is not None
                assert latest[0].size == size
                assert mirror.entries(root.store)[0] == texts
    finally:
        c.close()
