"""The access attributes of a record (密级, 开放/控制, owning department), from its metadata.

Written with the record in the archiving transaction (and again by `rebuild`), because the
access policy filters every list and search by joining on them: a record without them is
visible to nobody. Openness is 开放 only when the producer marked the record so in 控制标识
(M74); anything else is 控制 until an archivist opens it — the safe default.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dangan.access.models import Department, RecordAccess
from dangan.metadata.values import display_value

OPEN = "开放"
CONTROLLED = "控制"


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
    row = session.get(RecordAccess, record_id) or RecordAccess(record_id=record_id)
    row.security_classification = str(meta.get("security_classification") or "")
    row.openness = OPEN if display_value(meta.get("control_identifier")) == OPEN else CONTROLLED
    row.owner_department_id = owner_department(session, fonds, meta, org)
    session.add(row)
    return row
