"""Finding a record for a use case, through the policy.

For an actor, a record it may not see is indistinguishable from one that does not exist:
both are looked up through the same visibility-filtered query (never get-then-check) and both
answer `record_not_found`, recorded without a target so the ledger does not tell them apart
either. Beyond seeing the description (download, edit, arrange …) a refusal carries the
policy's own reason code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from dangan.access.models import RecordAccess
from dangan.access.visibility import visible_records_clause
from dangan.core.errors import DanganError, NotFoundError, PermissionDeniedError
from dangan.policy.decision import REASONS, RecordAccessAttrs, Subject
from dangan.policy.domain import READ_METADATA, SEPARATED_ROLES
from dangan.records.models import Record
from dangan.usecase import UnitOfWork

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def record_not_found(ref: str) -> NotFoundError:
    return NotFoundError(
        code="record_not_found", zh=f"找不到档案：{ref}", en=f"no such record: {ref}"
    )


def refused(reason: str) -> PermissionDeniedError:
    zh, en = REASONS[reason]
    return PermissionDeniedError(code=reason, zh=zh, en=en)


def separated(subject: Subject) -> bool:
    """三员 never reach records; refused before any record is looked at."""
    return bool(subject.roles & SEPARATED_ROLES)


def joined(stmt: S) -> S:
    """Records with their access attributes (a record without them is visible to nobody)."""
    return stmt.select_from(Record).join(RecordAccess, RecordAccess.record_id == Record.id)


def visible(subject: Subject, at: datetime, action: str = READ_METADATA) -> ColumnElement[bool]:
    return visible_records_clause(subject, at, action)


def _lookup(
    s: Session, subject: Subject, ref: str, at: datetime, lock: bool
) -> tuple[Record, RecordAccessAttrs] | None:
    """The record by id or 档号, only if visible: one query, the same for missing records."""
    stmt = (
        select(Record, RecordAccess)
        .join(RecordAccess, RecordAccess.record_id == Record.id)
        .where(or_(Record.id == ref, Record.archival_code == ref), visible(subject, at))
        .limit(1)
    )
    row = s.execute(stmt.with_for_update(of=Record) if lock else stmt).first()
    if row is None:
        return None
    rec, acc = row
    return rec, RecordAccessAttrs(
        record_id=rec.id,
        classification=acc.security_classification,
        openness=acc.openness,
        owner_department_id=acc.owner_department_id,
    )


def open_record(uow: UnitOfWork, ref: str, event: str, *actions: str, lock: bool = False) -> Record:
    """The record `ref` if the actor may see it and do each of `actions` on it; otherwise
    the refusal is recorded as a denied `event` and raised. `lock` holds the row for update
    (and re-reads it) so a decision cannot go stale before the change it allows."""
    subject = uow.actor.subject
    if separated(subject):
        raise uow.refuse(refused("separation_of_duties"), event, ref=ref)
    found = _lookup(uow.session, subject, ref, uow.at, lock)
    if found is None:
        # No target: the ledger must not tell an invisible record from a missing one.
        raise uow.refuse(record_not_found(ref), event, ref=ref)
    rec, attrs = found
    for action in actions:
        decision = uow.decide(action, attrs)
        if not decision.allowed:
            raise uow.refuse(refused(decision.reason), event, target=rec.id, ref=ref)
    return rec


@contextmanager
def recorded_failure(uow: UnitOfWork, event: str, rec: Record, ref: str) -> Iterator[None]:
    """A use case's own failure on a permitted record (no such file …): recorded with
    outcome "failure" — together with whatever was recorded before it — then raised."""
    try:
        yield
    except DanganError as exc:
        raise uow.fail(exc, event, target=rec.id, ref=ref) from None


def get_record(session: Session, ref: str) -> Record:
    """A record by id or archival code, for Dangan's own work (no actor, no policy)."""
    rec = (
        session.get(Record, ref)
        or session.scalars(select(Record).where(Record.archival_code == ref)).one_or_none()
    )
    if rec is None:
        raise record_not_found(ref)
    return rec
