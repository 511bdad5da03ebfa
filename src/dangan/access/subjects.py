"""Who a person is to the policy: the `Subject` of an account (roles, department scope,
clearance, active grants), and the `Actor` a use case is done by.

The subject is read afresh for every request (and every console command), so a changed role,
clearance or grant takes effect at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.domain import STATUS_ACTIVE, aware, person_required, unauthenticated
from dangan.access.models import AccessGrant, Department, RoleAssignment, User
from dangan.access.ports import AccessDeps
from dangan.core.clock import utcnow
from dangan.core.errors import NotFoundError, Problem
from dangan.policy.decision import GrantView, Subject
from dangan.policy.domain import ancestors, subtree
from dangan.usecase import Actor


def load_subject(session: Session, user_id: int, now: datetime | None = None) -> Subject:
    """The policy's view of an account at `now`: roles, department scope, clearance and the
    grants active then. UnauthenticatedError `session_expired` if there is no such account."""
    at = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise unauthenticated("session_expired")
    roles = frozenset(
        session.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id))
    )
    parents = {
        row.id: row.parent_id
        for row in session.execute(select(Department.id, Department.parent_id))
    }
    grants = (
        GrantView(
            record_id=g.record_id,
            actions=frozenset(a for a in g.actions.split(",") if a),
            valid_until=aware(g.valid_until),
            valid_from=aware(g.valid_from),
        )
        for g in session.scalars(
            select(AccessGrant).where(
                AccessGrant.user_id == user.id, AccessGrant.revoked_at.is_(None)
            )
        )
    )
    dept = user.department_id
    return Subject(
        user_id=user.id,
        roles=roles,
        department_id=dept,
        department_subtree=subtree(dept, parents) if dept is not None else frozenset(),
        department_ancestors=ancestors(dept, parents) if dept is not None else (),
        clearance=user.clearance,
        grants=tuple(g for g in grants if g.active(at)),
        username=user.username,
    )


def person_actor(
    deps: AccessDeps,
    user_id: int,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> Actor:
    """The signed-in person `user_id`, acting from `ip` with `user_agent`.

    UnauthenticatedError `session_expired` if the account is missing or disabled.
    """
    with deps.sessions() as s:
        user = s.get(User, user_id)
        if user is None or user.status != STATUS_ACTIVE:
            raise unauthenticated("session_expired")
        subject = load_subject(s, user_id, now)
    return Actor.person(subject, ip, user_agent)


def user_id_for(deps: AccessDeps, username: str, field: str = "username") -> int:
    """The id of the account `username`; NotFoundError `user_not_found` (the problem names
    `field`, the option the name came from) if there is none."""
    with deps.sessions() as s:
        found = s.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise NotFoundError(
            code="user_not_found",
            zh=f"用户 {username} 不存在",
            en=f"no user {username}",
            problems=[Problem(field, "not_found", "用户不存在", "no such user")],
        )
    return int(found)


def actor_for_username(deps: AccessDeps, username: str) -> Actor:
    """The person a console command acts as (`--actor`): checked by the policy exactly as
    over HTTP. NotFoundError `user_not_found` if there is no such account."""
    return person_actor(deps, user_id_for(deps, username, "actor"))


def own_account(session: Session, actor: Actor) -> User:
    """The acting person's own account, in `session` (to change it, or to name it as the
    one who acted). ConflictError `person_required` for anyone but a person;
    UnauthenticatedError `session_expired` if the account is gone or disabled."""
    if actor.user_id is None:
        raise person_required()
    user = session.get(User, actor.user_id)
    if user is None or user.status != STATUS_ACTIVE:
        raise unauthenticated("session_expired")
    return user
