"""What `ledger verify` checks beyond the log itself: the copies in every storage root, the
highest checkpoint outside the database, every receipt handed out (kept with the records and
in the copies) and every record's link to the event that placed it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.crypto.intl import ed25519_verify
from dangan.ledger import checkpoints, compare, mirror
from dangan.ledger.models import LedgerEntry
from dangan.ledger.note import check_witnessed
from dangan.ledger.report import LedgerProblem, VerifyReport
from dangan.ledger.store import Ledger
from dangan.records.domain import PLACING
from dangan.records.models import Record
from dangan.settings import LedgerSettings
from dangan.storage.interfaces import BlobStore


def outside(
    session: Session,
    ledger: Ledger,
    stores: Sequence[BlobStore],
    report: VerifyReport,
    witnesses: LedgerSettings,
    *,
    now: Callable[[], int],
) -> None:
    """`now()` gives the log's size outside the snapshot `session` reads (appends go on):
    each comparison asks it after reading the outside copy, so anything committed since the
    snapshot and already copied lies below it, and only what lies beyond is missing."""
    for store in stores:
        report.problems += compare.compare_copy(session, ledger, report.size, store, now)
        report.copies_checked += 1
    report.problems += compare.compare_latest(session, ledger, stores, now)
    given = _receipts(session, stores)
    report.problems += compare.check_receipts(session, ledger, given, now)
    report.receipts_checked = len(given)
    report.problems += record_links(session, report)
    report.problems += witnessed(session, witnesses)


def witnessed(session: Session, cfg: LedgerSettings) -> list[LedgerProblem]:
    """The latest checkpoint carries the quorum of cosignatures. Only the latest: each witness
    checked a consistency proof from the last size it cosigned, so a witnessed checkpoint
    vouches for every one before it."""
    if cfg.witness_quorum == 0:
        return []
    latest = checkpoints.latest(session)
    if latest is None:
        return []
    keys = {w.name: bytes.fromhex(w.public_key) for w in cfg.witnesses}
    found = check_witnessed(latest.parsed(), keys, cfg.witness_quorum, ed25519_verify)
    return [
        LedgerProblem(
            "checkpoint_not_witnessed",
            f"最新检查点（大小 {latest.size}）未获足够见证方联署：{why}",
            f"the latest checkpoint (size {latest.size}) lacks its witnesses: {why}",
            seq_range=(0, latest.size),
        )
        for why in found
    ]


def _receipts(session: Session, stores: Sequence[BlobStore]) -> dict[str, dict[str, Any]]:
    """Every receipt known: kept with the records, and in each copy (keyed per copy, so a
    copy that disagrees with the database is checked too)."""
    given: dict[str, dict[str, Any]] = {}
    for rid, text in session.execute(select(Record.id, Record.receipt_json)):
        if text:
            given[rid] = json.loads(text)
    for store in stores:
        for rid, receipt in mirror.receipts(store).items():
            if given.get(rid) != receipt:
                given[f"{rid} ({store.name})"] = receipt
    return given


def record_links(session: Session, report: VerifyReport) -> list[LedgerProblem]:
    """Every record points at an event that exists, targets it, and placed it."""
    problems = []
    rows = session.execute(select(Record.id, Record.ledger_seq)).all()
    report.records_checked = len(rows)
    linked = {seq: rid for rid, seq in rows if seq is not None}
    found = (
        dict(
            session.execute(
                select(LedgerEntry.seq, LedgerEntry.event).where(LedgerEntry.seq.in_(list(linked)))
            ).all()
        )
        if linked
        else {}
    )
    for seq, rid in sorted(linked.items()):
        event = json.loads(found[seq]) if seq in found else None
        if event is None or event.get("target") != rid or event.get("type") not in PLACING:
            problems.append(_unlinked(rid, seq, event is None))
    return problems


def _unlinked(record_id: str, seq: int, missing: bool) -> LedgerProblem:
    why_zh = "该记录不存在" if missing else "该记录不是此档案的归档事件"
    why_en = "that entry does not exist" if missing else "that entry is not this record's placing"
    return LedgerProblem(
        "record_event_missing",
        f"档案 {record_id} 的账本位置 {seq}：{why_zh}",
        f"record {record_id} points at ledger entry {seq}: {why_en}",
        seq=seq,
    )
