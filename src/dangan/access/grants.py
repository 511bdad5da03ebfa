"""Time-limited grants: one person's access to one record for a while, given by whoever may
grant on that record (archivists; a head on records of their departments).

A grant never lifts the grantee's clearance (the policy still checks it) and is never given
to the 三员, who see no records at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.domain import STATUS_ACTIVE, aware
from dangan.access.models import AccessGrant, RoleAssignment, User
from dangan.access.ports import AccessDeps
from dangan.access.subjects import own_account
from dangan.access.views import AccessGrantView
from dangan.access.visibility import record_attrs
from dangan.core.clock import iso
from dangan.core.errors import InvalidInputError, NotFoundError, Problem
from dangan.policy.domain import (
    GRANT,
    SEPARATED_ROLES,
    check_grant_input,
    normalise_grant_actions,
)
from dangan.usecase import Actor, UnitOfWork, use_case

GRANT_CREATED = "access.grant_created"
GRANT_REVOKED = "access.grant_revoked"


def _grant_problems(  # noqa: PLR0917 - what a grant is checked on
    s: Session,
    user_id: int,
    actions: list[str],
    reason: str,
    start: datetime,
    until: datetime,
    at: datetime,
) -> list[Problem]:
    problems = check_grant_input(actions, reason)
    if until <= max(start, at):
        problems.append(
            Problem(
                "valid_until",
                "not_after_start",
                "截止时间须晚于开始时间和当前时间",
                "the end must be after the start and after now",
            )
        )
    grantee = s.get(User, user_id)
    if grantee is None or grantee.status != STATUS_ACTIVE:
        problems.append(
            Problem(
                "user_id",
                "not_found",
                "被授权用户不存在或已停用",
                "the grantee does not exist or is disabled",
            )
        )
    elif set(s.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id))) & (
        SEPARATED_ROLES
    ):
        problems.append(
            Problem(
                "user_id",
                "separation_of_duties",
                "三员账户不能被授权访问档案",
                "administrator and auditor accounts get no record access",
            )
        )
    return problems


def _record_not_found() -> NotFoundError:
    return NotFoundError(code="record_not_found", zh="档案不存在", en="no such record")


@use_case(GRANT_CREATED)
def create_grant(
    deps: AccessDeps,
    actor: Actor,
    *,
    user_id: int,
    record_id: str,
    actions: Iterable[str],
    valid_until: datetime,
    reason: str,
    valid_from: datetime | None = None,
    now: datetime | None = None,
) -> AccessGrantView:
    """Give `user_id` the record `actions` on `record_id` from `valid_from` (default: now)
    until `valid_until`, for `reason`. Any action implies reading the description."""
    acts = list(actions)
    target = f"record:{record_id}"
    with UnitOfWork(deps, actor, at=now) as uow:
        s = uow.session
        attrs = record_attrs(s, record_id)
        if attrs is None:
            raise _record_not_found()
        uow.authorize(GRANT, attrs, event=GRANT_CREATED, target=target, user_id=user_id)
        granter = own_account(s, actor)
        start, until = aware(valid_from or uow.at), aware(valid_until)
        problems = _grant_problems(s, user_id, acts, reason, start, until, uow.at)
        if problems:
            raise InvalidInputError.of(problems)
        grant = AccessGrant(
            user_id=user_id,
            record_id=record_id,
            actions=",".join(sorted(normalise_grant_actions(acts))),
            valid_from=start,
            valid_until=until,
            granted_by=granter.id,
            reason=reason.strip()[:500],
            created_at=uow.at,
        )
        s.add(grant)
        s.flush()
        uow.record(
            GRANT_CREATED,
            target=target,
            grant_id=grant.id,
            user_id=user_id,
            actions=grant.actions,
            valid_from=iso(grant.valid_from),
            valid_until=iso(grant.valid_until),
            reason=grant.reason,
        )
        return AccessGrantView.of(grant)


@use_case(GRANT_REVOKED)
def revoke_grant(
    deps: AccessDeps, actor: Actor, grant_id: int, *, now: datetime | None = None
) -> None:
    """End a grant early (whoever could have granted it on that record); ending an ended
    grant is no change."""
    with UnitOfWork(deps, actor, at=now) as uow:
        s = uow.session
        grant = s.get(AccessGrant, grant_id)
        if grant is None:
            raise NotFoundError(code="grant_not_found", zh="授权不存在", en="no such grant")
        target = f"record:{grant.record_id}"
        attrs = record_attrs(s, grant.record_id)
        uow.authorize(GRANT, attrs, event=GRANT_REVOKED, target=target, grant_id=grant_id)
        if grant.revoked_at is not None:
            return
        grant.revoked_at = uow.at
        grant.revoked_by = actor.user_id
        uow.record(GRANT_REVOKED, target=target, grant_id=grant.id, user_id=grant.user_id)
