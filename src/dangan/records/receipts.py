"""The receipt a producer gets for an archived (or queued) record: its code, the files'
digests, the package signature and an inclusion proof of its ledger event against a signed
checkpoint — checkable the moment it is given. The first receipt is stored with the record,
so a retry gets exactly the same one."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from dangan.ledger.store import Ledger
from dangan.records.models import Record

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


def issue_receipt(session: Session, rec: Record, ledger: Ledger) -> Receipt:
    """Make the record's receipt now (in the archiving transaction) and keep it."""
    session.flush()
    receipt = receipt_of(session, rec, ledger)
    rec.receipt_json = json.dumps(receipt, ensure_ascii=False)
    return receipt


def stored_receipt(session: Session, rec: Record) -> Receipt:
    """The receipt as first given, or (a record rebuilt from storage) a fresh one."""
    if rec.receipt_json:
        stored: Receipt = json.loads(rec.receipt_json)
        return stored
    return receipt_of(session, rec)
