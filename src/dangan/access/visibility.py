"""How the policy sees records: their access attributes (密级, 开放/控制, owning department,
one `record_access` row per record) and the SQL clause that keeps every list, count and search
consistent with `dangan.policy.decide`.

The attributes are written with the record in the archiving transaction (and again by
`rebuild`), because every list joins on them: a record without them is visible to nobody.
Openness is 开放 only when the producer marked the record so in 控制标识 (M74); anything else
is 控制 until an archivist opens it — the safe default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from dangan.access.models import Department, RecordAccess
from dangan.metadata.values import display_value
from dangan.policy.decision import RecordAccessAttrs, Subject, visible_filter
from dangan.policy.domain import CONTROLLED, OPEN, READ_METADATA


def visible_records_clause(
    subject: Subject, now: datetime | None = None, action: str = READ_METADATA
) -> ColumnElement[bool]:
    """WHERE clause admitting exactly the records `decide` allows `subject` for `action`.

    It names RecordAccess columns only; join the record table on it:
    ``select(Record).join(RecordAccess, RecordAccess.record_id == Record.id).where(clause)``
    (records without a RecordAccess row are therefore never visible).
    """
    f = visible_filter(subject, now, action)
    if f.everything:
        return true()
    if f.nothing:
        return false()
    scope: list[ColumnElement[bool]] = []
    if f.all_departments:
        scope.append(true())
    if f.department_ids:
        scope.append(RecordAccess.owner_department_id.in_(sorted(f.department_ids)))
    if f.open_records:
        scope.append(RecordAccess.openness == OPEN)
    if f.granted_record_ids:
        scope.append(RecordAccess.record_id.in_(sorted(f.granted_record_ids)))
    return and_(RecordAccess.security_classification.in_(sorted(f.classifications)), or_(*scope))


def record_attrs(session: Session, record_id: str) -> RecordAccessAttrs | None:
    """What the policy needs of one record; None if it has no access attributes."""
    row = session.get(RecordAccess, record_id)
    if row is None:
        return None
    return RecordAccessAttrs(
        record_id=row.record_id,
        classification=row.security_classification,
        openness=row.openness,
        owner_department_id=row.owner_department_id,
    )


def owner_department(
    session: Session, fonds: str, meta: dict[str, Any], org: str | None
) -> int | None:
    """The department named in 承办部门 (by name or code), else the one whose code is the
    record's 机构(问题) code; None when neither is a known department of the fonds."""
    wanted = [v for v in (display_value(meta.get("department")), org) if v]
    for value in wanted:
        found = session.scalar(
            select(Department.id)
            .where(
                Department.fonds_code == fonds,
                or_(Department.name == value, Department.code == value),
            )
            .limit(1)
        )
        if found is not None:
            return found
    return None


def link_access(
    session: Session, record_id: str, fonds: str, meta: dict[str, Any], org: str | None
) -> RecordAccess:
    """Write (or rewrite) a record's access attributes from its metadata, in `session`."""
    row = session.get(RecordAccess, record_id) or RecordAccess(record_id=record_id)
    row.security_classification = str(meta.get("security_classification") or "")
    row.openness = OPEN if display_value(meta.get("control_identifier")) == OPEN else CONTROLLED
    row.owner_department_id = owner_department(session, fonds, meta, org)
    session.add(row)
    return row
