"""Correcting a record's metadata: a new version with a reason; nothing is overwritten.

Only producer-supplied elements may be corrected; what Dangan derived (archival code parts,
file attributes, process metadata) is not editable here. The corrected description is signed
as version N+1, written to OCFL as vN+1 after the commit (outbox), and the ledger event names
the fields changed, with old and new values, and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.visibility import link_access
from dangan.bootstrap import Container
from dangan.core.canonical import canonical_json
from dangan.core.clock import iso, utcnow
from dangan.core.errors import InvalidInputError, Problem
from dangan.db.locking import for_update
from dangan.ledger.models import LedgerEntry
from dangan.metadata import validate
from dangan.metadata.values import display_value
from dangan.records.models import OutboxItem, Record, RecordVersion
from dangan.records.packaging import drain_outbox
from dangan.records.services import get_record, sign_package

MAX_REASON = 500


def _producer_keys(c: Container, category: str) -> set[str]:
    return {el.key for el in c.schemas.get(category).elements if el.source == "producer"}


def _check(
    c: Container, rec: Record, current: dict[str, Any], changes: dict[str, Any], reason: str
) -> dict[str, Any]:
    problems: list[Problem] = []
    if not reason.strip() or len(reason) > MAX_REASON:
        problems.append(
            Problem(
                "reason",
                "reason_required",
                f"须说明修改理由（1–{MAX_REASON} 字）",
                f"a reason of 1–{MAX_REASON} characters is required",
            )
        )
    schema = c.schemas.get(rec.category_code)
    editable = _producer_keys(c, rec.category_code)
    for name in changes:
        el = schema.get(name)
        if el is not None and el.key not in editable:
            problems.append(
                Problem(
                    name,
                    "not_editable",
                    f"{el.zh}由系统生成，不能修改",
                    f"{el.key} is set by the system and cannot be edited",
                )
            )
    producer_now = {k: v for k, v in current.items() if k in editable}
    normalised, found = validate(schema, {**producer_now, **changes}, "submission")
    problems += [p for p in found if p.field in changes or p.code == "missing_mandatory"]
    # Defaults and derived values (年度 from 日期…) are not the editor's to change here.
    merged = {k: v for k, v in normalised.items() if k in editable}
    if not problems and all(producer_now.get(k) == merged.get(k) for k in merged):
        problems.append(Problem("changes", "no_change", "没有任何改动", "nothing would change"))
    if problems:
        raise InvalidInputError.of(problems)
    return {k: v for k, v in merged.items() if producer_now.get(k) != v}


def edit_metadata(
    c: Container,
    actor: str,
    ref: str,
    changes: dict[str, Any],
    reason: str,
    *,
    context: dict[str, Any] | None = None,
    authorize: Callable[[Session, str], None] | None = None,
) -> dict[str, Any]:
    """Correct producer metadata of a record; returns the new version's summary.

    `authorize(session, record_id)` (raises to refuse) runs inside the transaction twice:
    once the record is locked, and again on its corrected access attributes (密级, department),
    so a permission cannot change between the check and the edit, and nobody can move a
    record out of their own reach (e.g. above their clearance) by editing it.

    `context` (where the request came from: ip, user agent) is added to the event's details.
    """
    now = utcnow()
    with c.sessions.begin() as session:
        rec = get_record(session, ref)
        rec = session.scalars(for_update(select(Record).where(Record.id == rec.id))).one()
        if authorize is not None:
            authorize(session, rec.id)
        description: dict[str, Any] = json.loads(rec.versions[-1].metadata_json)
        current = description["metadata"]
        changed = _check(c, rec, current, changes, reason)
        description["metadata"] = {**current, **changed}
        description["version"] = rec.version + 1
        signature = sign_package(c, description)
        rec.version += 1
        rec.versions.append(
            RecordVersion(
                version=rec.version,
                metadata_json=canonical_json(description).decode(),
                signature_json=json.dumps(signature),
                created_at=now,
                reason=reason.strip(),
            )
        )
        meta = description["metadata"]
        rec.title = str(meta["title"])
        rec.document_number = display_value(meta.get("document_number"))
        rec.author = display_value(meta.get("author"))
        rec.doc_date = display_value(meta.get("date"))
        link_access(session, rec.id, rec.fonds_code, meta, rec.org_code)
        if authorize is not None:
            session.flush()
            authorize(session, rec.id)
        c.ledger.append(
            session,
            {
                "type": "record.edited",
                "actor": actor,
                "at": iso(now),
                "target": rec.id,
                "outcome": "success",
                "details": {
                    "version": rec.version,
                    "reason": reason.strip(),
                    "changes": {k: {"old": current.get(k), "new": v} for k, v in changed.items()},
                    "package_signature": signature["value"],
                    **(context or {}),
                },
            },
        )
        for kind in ("package", "index"):
            session.add(
                OutboxItem(kind=kind, record_id=rec.id, version=rec.version, created_at=now)
            )
        record_id, version = rec.id, rec.version
    drain_outbox(c, record_id=record_id)
    return {"record_id": record_id, "version": version, "changed": sorted(changed)}


def record_history(c: Container, ref: str) -> dict[str, Any]:
    """Versions and every ledger event about the record, oldest first."""
    with c.sessions() as session:
        rec = get_record(session, ref)
        events = session.execute(
            select(LedgerEntry.seq, LedgerEntry.event)
            .where(LedgerEntry.target == rec.id)
            .order_by(LedgerEntry.seq)
        ).all()
        return {
            "record_id": rec.id,
            "versions": [
                {
                    "version": v.version,
                    "created_at": iso(v.created_at),
                    "reason": v.reason,
                    "metadata": json.loads(v.metadata_json)["metadata"],
                }
                for v in rec.versions
            ],
            "events": [{"seq": seq, **json.loads(text)} for seq, text in events],
        }
