"""The receipt a producer gets for an archived (or queued) record: its code, the files'
digests, the package signature and an inclusion proof of its ledger event against the
checkpoint its batch signed — checkable the moment it is given.

A receipt is made once the record's event is sequenced (after the archiving transaction), kept
with the record and in every storage root's ledger copy, so a retry — even after the database
was rebuilt from storage — gets exactly the receipt first given. Linking the record to its
event and keeping its receipt are bookkeeping derived from the ledger, not effects of their
own: they are written outside a unit of work, and `relink` redoes them after a crash.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.errors import NotFoundError
from dangan.ledger import mirror
from dangan.ledger.models import LedgerEntry
from dangan.ledger.store import Ledger
from dangan.records.domain import PLACING
from dangan.records.models import Record
from dangan.records.ports import RecordsDeps

Receipt = dict[str, Any]


def receipt_of(session: Session, rec: Record, ledger: Ledger | None = None) -> Receipt:
    """The receipt for a record; with `ledger`, its event's inclusion proof too."""
    version = rec.versions[-1] if rec.versions else None
    signature = json.loads(version.signature_json) if version else None
    receipt: Receipt = {
        "record_id": rec.id,
        "status": rec.status,
        "archival_code": rec.archival_code,
        "title": rec.title,
        "source": {"system": rec.source_system, "id": rec.source_id},
        "files": [
            {
                "name": f.name,
                "size": f.size,
                "sm3": f.sm3,
                "sha256": f.sha256,
                "format": f.format_name,
            }
            for f in rec.files
        ],
        "signature": signature,
        "ledger_seq": rec.ledger_seq,
    }
    if ledger is not None and rec.ledger_seq is not None:
        receipt["ledger"] = ledger.prove(session, rec.ledger_seq)
    return receipt


def issue_receipt(deps: RecordsDeps, record_id: str, seq: int) -> Receipt:
    """Link the record to its (sequenced) event, make its receipt and keep it everywhere."""
    with deps.sessions.begin() as session:
        rec = session.get(Record, record_id, with_for_update=True)
        if rec is None:
            raise NotFoundError(
                code="record_not_found",
                zh=f"找不到档案：{record_id}",
                en=f"no such record: {record_id}",
            )
        rec.ledger_seq = seq
        receipt = receipt_of(session, rec, deps.ledger)
        rec.receipt_json = json.dumps(receipt, ensure_ascii=False, sort_keys=True)
    mirror.put_receipt([r.store for r in deps.roots], record_id, receipt)
    return receipt


def relink(deps: RecordsDeps) -> int:
    """Records whose receipt a crash interrupted (event sequenced, link and receipt not yet
    kept): link them to their latest placing event and keep their receipt. How many."""
    with deps.sessions() as session:
        loose = list(session.scalars(select(Record.id).where(Record.ledger_seq.is_(None))))
        found = {rid: latest_placing(session, rid) for rid in loose}
    done = 0
    for rid, seq in found.items():
        if seq is not None:
            issue_receipt(deps, rid, seq)
            done += 1
    return done


def latest_placing(session: Session, record_id: str) -> int | None:
    """The position of the latest event that archived or queued the record, if any."""
    best = None
    for seq, text in session.execute(
        select(LedgerEntry.seq, LedgerEntry.event).where(LedgerEntry.target == record_id)
    ):
        if json.loads(text).get("type") in PLACING:
            best = seq if best is None else max(best, seq)
    return best


def stored_receipt(session: Session, rec: Record) -> Receipt:
    """The receipt as first given, or (a record rebuilt from storage) a fresh one."""
    if rec.receipt_json:
        stored: Receipt = json.loads(rec.receipt_json)
        return stored
    return receipt_of(session, rec)
