"""`verify CODE` checks the record's own ledger events, on SQLite and PostgreSQL: the events
that placed and changed it must be in the database, hash to their leaves, name the record,
and be proven to a checkpoint signed with the log's key. Tampering with them as an intruder
would (deleting, editing, or re-signing everything with the stolen key) makes the result not
ok, with findings naming the positions; the command exits non-zero.

Four notices are archived (entries 0..3, notice n placed by entry n-1), then notice 2 is
corrected (entry 4) and a queued record is confirmed (entries 5 and 6).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from dangan.bootstrap import Container
from dangan.cli.main import app
from dangan.ledger.domain import leaf_hash
from dangan.ledger.models import LedgerEntry
from dangan.records.domain import IncomingFile, Submission
from dangan.records.services import confirm, edit_record
from dangan.records.verification import RecordVerification
from tests.archive_kit import (
    UNCLASSIFIABLE,
    archivist,
    ingest,
    new_instance,
    notice,
    verify,
    write_doc,
)
from tests.integration.test_ledger_tamper import recompute_everything


@dataclass
class Archive:
    c: Container
    codes: list[str]  # notices 1..4
    queued: str  # the record queued, then confirmed
    data_dir: Path
    db_url: str


@pytest.fixture
def archive(tmp_path: Path, db_url: str) -> Iterator[Archive]:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        codes = [ingest(c, notice(tmp_path / "in", n))["archival_code"] for n in range(1, 5)]
        edit_record(c, archivist(), codes[1], {"title": "更正后的题名"}, "题名有误")
        path = write_doc(tmp_path / "in", "misc.txt", "杂项材料正文")
        sub = Submission("oa", "Q-1", dict(UNCLASSIFIABLE), [IncomingFile(path, path.name)])
        queued = ingest(c, sub)["record_id"]
        confirm(c, archivist(), queued, retention="D30", org="BGS", reason="")
        yield Archive(c, codes, queued, tmp_path / "inst", db_url)
    finally:
        c.close()


def findings(result: RecordVerification) -> set[tuple[str, int | None]]:
    return {(f.code, f.seq) for f in result.ledger_findings}


def event_at(c: Container, seq: int) -> str:
    with c.sessions() as s:
        return s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq == seq)).one()


def test_an_untouched_record_is_ok_with_its_positions(archive: Archive) -> None:
    c = archive.c
    first = verify(c, archive.codes[0])
    assert first.ok, first.problems
    assert first.ledger_positions == [0]
    assert any(line.startswith("账本位置 0（v1 record.archived）") for line in first.checked)
    corrected = verify(c, archive.codes[1])
    assert corrected.ok, corrected.problems
    assert corrected.ledger_positions == [1, 4]  # archived, then corrected
    assert any("ledger position 4 (v2 record.edited)" in line for line in corrected.checked)
    confirmed = verify(c, archive.queued)
    assert confirmed.ok, confirmed.problems
    assert confirmed.ledger_positions == [5, 6]  # queued, then confirmed
    assert confirmed.as_dict()["ledger_findings"] == []


def test_a_deleted_archiving_entry_is_named(archive: Archive) -> None:
    c = archive.c
    with c.sessions.begin() as s:
        s.execute(delete(LedgerEntry).where(LedgerEntry.seq == 2))
    result = verify(c, archive.codes[2])
    assert not result.ok
    assert ("ledger_entry_missing", 2) in findings(result)
    assert ("ledger_version_unrecorded", None) in findings(result)  # v1 lost its event
    assert any("ledger position 2" in p for p in result.problems)
    assert any("账本位置 2" in p for p in result.problems)
    assert 2 in result.ledger_positions
    # the neighbour whose proof passes through the deleted leaf cannot be proven either
    neighbour = verify(c, archive.codes[3])
    assert ("ledger_proof_invalid", 3) in findings(neighbour)


def test_an_edited_event_is_named(archive: Archive) -> None:
    c = archive.c
    text = event_at(c, 2)
    with c.sessions.begin() as s:
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == 2)
            .values(event=text.replace('"actor":"system:oa"', '"actor":"system:hr"'))
        )
    result = verify(c, archive.codes[2])
    assert not result.ok
    assert findings(result) >= {
        ("ledger_leaf_mismatch", 2),
        ("ledger_proof_invalid", 2),
        ("ledger_event_differs_from_receipt", 2),
    }
    assert verify(c, archive.codes[0]).ok  # the others' events are untouched


def test_an_edited_event_with_its_leaf_recomputed_fails_its_proof(archive: Archive) -> None:
    c = archive.c
    changed = event_at(c, 4).replace("更正后的题名", "另一个题名")
    with c.sessions.begin() as s:
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == 4)
            .values(event=changed, leaf_hash=leaf_hash(c.ledger.suite.hash, changed.encode()))
        )
    result = verify(c, archive.codes[1])
    assert not result.ok
    assert findings(result) == {("ledger_proof_invalid", 4)}
    assert "audit path does not lead from entry 4" in result.problems[0]


def test_an_event_moved_to_another_record_is_named(archive: Archive) -> None:
    """Notice 3's archiving event rewritten (leaf too) to name notice 4: not notice 3's."""
    c = archive.c
    with c.sessions() as s:
        mine = json.loads(event_at(c, 2))["target"]
        theirs = json.loads(event_at(c, 3))["target"]
    changed = event_at(c, 2).replace(mine, theirs)
    with c.sessions.begin() as s:
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == 2)
            .values(event=changed, leaf_hash=leaf_hash(c.ledger.suite.hash, changed.encode()))
        )
    found = findings(verify(c, archive.codes[2]))
    assert {("ledger_event_not_this_record", 2), ("ledger_proof_invalid", 2)} <= found


def test_a_forgery_with_the_stolen_key_is_caught_by_the_receipt(archive: Archive) -> None:
    """Entry 2 rewritten with every leaf, node and checkpoint recomputed and re-signed with
    the log's own key: the proof holds, but the event is not the one the receipt gave."""
    c = archive.c
    recompute_everything(c, c.ledger.suite, seq=2)
    result = verify(c, archive.codes[2])
    assert findings(result) == {("ledger_event_differs_from_receipt", 2)}


def test_the_cli_exits_non_zero_and_names_the_position(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGAN_DATA_DIR", str(archive.data_dir))
    monkeypatch.setenv("DANGAN_DATABASE_URL", archive.db_url)
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()
    good = cli.invoke(app, ["verify", archive.codes[2]])
    assert good.exit_code == 0, good.output
    assert json.loads(good.output[good.output.index("{") :])["ledger_positions"] == [2]

    with archive.c.sessions.begin() as s:
        s.execute(delete(LedgerEntry).where(LedgerEntry.seq == 2))
    bad = cli.invoke(app, ["verify", archive.codes[2]])
    assert bad.exit_code == 1, bad.output
    shown = json.loads(bad.output[bad.output.index("{") :])
    assert shown["ok"] is False
    assert {"code": "ledger_entry_missing", "seq": 2} in [
        {k: f[k] for k in ("code", "seq")} for f in shown["ledger_findings"]
    ]
