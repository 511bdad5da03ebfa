"""What a record looks like to whoever may see it: its full description and its history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.clock import iso
from dangan.ledger.models import LedgerEntry
from dangan.metadata.dates import precision_of
from dangan.records.models import CheckReport, Record


def details_of(session: Session, rec: Record) -> dict[str, Any]:
    """The full description of a record already looked up (and access-checked) in `session`."""
    head = json.loads(rec.versions[-1].metadata_json) if rec.versions else {}
    reports = session.scalars(
        select(CheckReport).where(CheckReport.record_id == rec.id).order_by(CheckReport.id)
    )
    return {
        "record_id": rec.id,
        "status": rec.status,
        "archival_code": rec.archival_code,
        "title": rec.title,
        "document_number": rec.document_number,
        "author": rec.author,
        "date": rec.doc_date,
        "date_precision": precision_of(rec.doc_date),  # year | month | day; None: undated
        "retention": rec.retention,
        "org": rec.org_code,
        "source": {"system": rec.source_system, "id": rec.source_id},
        "version": rec.version,
        "ledger_seq": rec.ledger_seq,
        "metadata": head.get("metadata", {}),
        "files": [
            {
                "name": f.name,
                "role": f.role,
                "size": f.size,
                "sm3": f.sm3,
                "sha256": f.sha256,
                "format": f.format_name,
                "format_version": f.format_version,
                "preferred_format": f.preferred_format,
                "pages": f.pages,
            }
            for f in rec.files
        ],
        "versions": [
            {"version": v.version, "created_at": v.created_at.isoformat(), "reason": v.reason}
            for v in rec.versions
        ],
        "check_reports": [json.loads(r.report_json) for r in reports],
    }


def history_of(
    session: Session, rec: Record, skip_types: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Versions and the ledger events about the record (except `skip_types`), oldest first."""
    stmt = select(LedgerEntry.seq, LedgerEntry.event).where(LedgerEntry.target == rec.id)
    events = [
        {"seq": seq, **ev}
        for seq, ev in (
            (seq, json.loads(text)) for seq, text in session.execute(stmt.order_by(LedgerEntry.seq))
        )
        if ev.get("type") not in skip_types
    ]
    return {
        "record_id": rec.id,
        "archival_code": rec.archival_code,
        "versions": [
            {
                "version": v.version,
                "created_at": iso(v.created_at),
                "reason": v.reason,
                "metadata": json.loads(v.metadata_json)["metadata"],
            }
            for v in rec.versions
        ],
        "events": events,
    }
