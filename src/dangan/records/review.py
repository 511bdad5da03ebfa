"""The review queue (待整理): submissions no rule classified with confidence.

They are stored and on the ledger but carry no archival code until an archivist confirms
retention and 机构(问题); confirming numbers them in the same transaction as the new version
and its ledger event.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from dangan.access.visibility import link_access
from dangan.arrangement.numbering import Placement, assign_code
from dangan.bootstrap import Container
from dangan.core.canonical import canonical_json
from dangan.core.clock import iso, utcnow
from dangan.core.errors import ConflictError, InvalidInputError, Problem
from dangan.db.locking import for_update
from dangan.records.models import STATUS_ARCHIVED, STATUS_PENDING, OutboxItem, Record, RecordVersion
from dangan.records.packaging import drain_outbox
from dangan.records.services import Receipt, get_record, receipt_of, sign_package

RETENTION_CODES = {
    "Y": "Y",
    "永久": "Y",
    "D30": "D30",
    "定期30年": "D30",
    "D10": "D10",
    "定期10年": "D10",
}


def list_queue(c: Container, limit: int = 100) -> list[Record]:
    with c.sessions() as session:
        return list(
            session.scalars(
                select(Record)
                .where(Record.status == STATUS_PENDING)
                .order_by(Record.received_at)
                .limit(limit)
            )
        )


def _check_inputs(retention: str, org: str | None) -> tuple[str, str | None]:
    problems = []
    code = RETENTION_CODES.get(retention.strip())
    if code is None:
        problems.append(
            Problem(
                "retention",
                "unknown_value",
                f"保管期限须为 {'/'.join(RETENTION_CODES)} 之一，收到 {retention!r}",
                f"retention must be one of {', '.join(RETENTION_CODES)}; got {retention!r}",
            )
        )
    org_code = org.strip() if org else None
    if org_code is not None and not (1 <= len(org_code) <= 20 and org_code.isalnum()):
        problems.append(
            Problem(
                "org",
                "bad_org_code",
                "机构（问题）代码须为 1–20 位字母、数字或汉字",
                "the organisation code must be 1–20 letters, digits or Chinese characters",
            )
        )
    if problems:
        raise InvalidInputError.of(problems)
    assert code is not None
    return code, org_code


def confirm(
    c: Container, ref: str, *, retention: str, org: str | None, actor: str, reason: str = ""
) -> Receipt:
    """Confirm classification of a queued record and number it."""
    ret, org_code = _check_inputs(retention, org)
    now_dt = utcnow()
    with c.sessions.begin() as session:
        rec = get_record(session, ref)
        rec = session.scalars(for_update(select(Record).where(Record.id == rec.id))).one()
        if rec.status != STATUS_PENDING:
            raise ConflictError(
                code="not_pending",
                zh=f"档案 {rec.archival_code or rec.id} 不在待整理队列中",
                en=f"record {rec.archival_code or rec.id} is not in the review queue",
            )
        last = rec.versions[-1]
        description: dict[str, Any] = json.loads(last.metadata_json)
        year = int(str(description["metadata"].get("year") or rec.doc_date or "")[:4])
        placement = Placement(rec.fonds_code, rec.category_code, year, ret, org_code)
        piece, code = assign_code(session, c.code_format, placement)
        meta = dict(description["metadata"])
        meta.update(
            {
                "year": year,
                "retention_period": ret,
                "archival_code": code,
                "agency_item_number": piece,
                "business_activity": "整理确认",
                "action_time": iso(now_dt),
                "agent_name": actor,
            }
        )
        if org_code:
            meta["organizational_unit"] = org_code
        new_version = rec.version + 1
        description.update(
            {
                "metadata": meta,
                "status": STATUS_ARCHIVED,
                "version": new_version,
                "classification": {
                    "classified": True,
                    "by": actor,
                    "reason": reason,
                    "retention": ret,
                    "org": org_code,
                },
            }
        )
        signature = sign_package(c, description)
        rec.versions.append(
            RecordVersion(
                version=new_version,
                metadata_json=canonical_json(description).decode(),
                signature_json=json.dumps(signature),
                created_at=now_dt,
                reason=reason or "整理确认 classification confirmed",
            )
        )
        rec.status, rec.archival_code, rec.piece, rec.version = (
            STATUS_ARCHIVED,
            code,
            piece,
            new_version,
        )
        rec.year, rec.retention, rec.org_code, rec.archived_at = year, ret, org_code, now_dt
        appended = c.ledger.append(
            session,
            {
                "type": "record.archived",
                "actor": actor,
                "at": iso(now_dt),
                "target": rec.id,
                "outcome": "success",
                "details": {
                    "archival_code": code,
                    "confirmed_from_queue": True,
                    "reason": reason,
                    "package_signature": signature["value"],
                },
            },
        )
        rec.ledger_seq = appended.seq
        link_access(session, rec.id, rec.fonds_code, meta, org_code)
        for kind in ("package", "index"):
            session.add(
                OutboxItem(kind=kind, record_id=rec.id, version=new_version, created_at=now_dt)
            )
        session.flush()
        receipt = receipt_of(session, rec, c=c)
        rec.receipt_json = json.dumps(receipt, ensure_ascii=False)
    drain_outbox(c, record_id=rec.id)
    return receipt
