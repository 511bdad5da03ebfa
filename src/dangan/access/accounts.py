"""Accounts, roles and clearances: the three administrators at set-up, accounts made by the
system administrator, roles under 三员分立, and the 密级 a person may see, set by the
security administrator.

Each use case asks the policy first; a refusal for lack of permission (or for 三员分立) is
itself recorded, with outcome "denied"; input that breaks a rule writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.domain import STATUS_ACTIVE, USERNAME
from dangan.access.models import Department, RoleAssignment, User
from dangan.access.passwords import hash_password, password_problems
from dangan.access.ports import AccessDeps
from dangan.access.subjects import own_account
from dangan.access.views import UserView, user_view
from dangan.core.errors import ConflictError, InvalidInputError, NotFoundError, Problem, invalid
from dangan.core.invisible import invisible_problem
from dangan.policy.domain import (
    CLASSIFICATIONS,
    LOWEST_CLEARANCE,
    MANAGE_USERS,
    ROLE_NAMES,
    ROLES,
    SEPARATED_ROLES,
    SET_CLEARANCE,
    role_label,
    separation_conflict,
)
from dangan.usecase import Actor, UnitOfWork, use_case
from dangan.usecase.uow import denied

USER_CREATED = "access.user_created"
ROLE_ASSIGNED = "access.role_assigned"
_ROLE_BY_LABEL = {zh: role for role, (zh, _en) in ROLE_NAMES.items()}


def role_from_label(value: str) -> str:
    """The role a console user means: its key (`archivist`) or its Chinese label (档案员).
    Anything else comes back unchanged, for `assign_role` to refuse as an unknown role."""
    text = value.strip()
    return _ROLE_BY_LABEL.get(text, text)


def _separation_of_duties(role: str, clash: str) -> ConflictError:
    """The role would combine duties 三员分立 keeps apart."""
    return ConflictError(
        code="separation_of_duties",
        zh=f"三员分立：{role_label(role)}不能与{role_label(clash)}由同一账户担任",
        en=f"separation of duties: one account cannot hold both {role} and {clash}",
    )


@dataclass(frozen=True)
class NewAccount:
    """What a new account is made from. Without a password it can only sign in through SSO,
    so it then needs `oidc_subject`."""

    username: str
    display_name: str
    password: str | None
    department_id: int | None = None
    oidc_subject: str | None = None


def _account_problems(s: Session, new: NewAccount) -> list[Problem]:
    problems: list[Problem] = []
    if not USERNAME.match(new.username):
        problems.append(
            Problem(
                "username",
                "bad_username",
                "用户名为 3 至 64 个字母、数字或 . _ @ -，以字母或数字开头",
                "a user name is 3-64 letters, digits or . _ @ -, starting with a letter or digit",
            )
        )
    elif s.scalar(select(User.id).where(User.username == new.username)) is not None:
        problems.append(
            Problem("username", "duplicate", "用户名已被使用", "the user name is taken")
        )
    if not new.display_name.strip() or len(new.display_name) > 100:
        problems.append(
            Problem(
                "display_name",
                "required",
                "请填写姓名（不超过 100 字）",
                "a display name (at most 100 characters) is required",
            )
        )
    elif hidden := invisible_problem(
        "display_name", new.display_name, "姓名（display_name）", "display_name"
    ):
        problems.append(hidden)
    if new.password is None:
        if new.oidc_subject is None:
            problems.append(Problem("password", "required", "请设置密码", "a password is required"))
    else:
        problems.extend(password_problems(new.password, new.username))
    if new.department_id is not None and s.get(Department, new.department_id) is None:
        problems.append(Problem("department_id", "not_found", "部门不存在", "no such department"))
    return problems


def new_user(s: Session, new: NewAccount, at: datetime, role: str | None = None) -> User:
    """A new account row (lowest clearance; `role`, if given, assigned by nobody: Dangan
    itself) after checking every rule at once; for use inside a use case's unit of work,
    which records the event."""
    problems = _account_problems(s, new)
    if problems:
        raise InvalidInputError.of(problems)
    user = User(
        username=new.username,
        display_name=new.display_name.strip(),
        department_id=new.department_id,
        password_hash=hash_password(new.password) if new.password is not None else None,
        clearance=LOWEST_CLEARANCE,
        status=STATUS_ACTIVE,
        failed_attempts=0,
        totp_enabled=False,
        oidc_subject=new.oidc_subject,
        created_at=at,
    )
    s.add(user)
    s.flush()
    if role is not None:
        s.add(RoleAssignment(user_id=user.id, role=role, assigned_by=None, assigned_at=at))
    return user


@use_case(USER_CREATED)
def bootstrap_account(
    deps: AccessDeps,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    now: datetime | None = None,
) -> UserView:
    """One of the three administrators, made at set-up (`actor`: `Actor.internal(
    "system:setup")`) while nobody holds that role yet (ConflictError `role_already_held`)."""
    if role not in SEPARATED_ROLES:
        raise invalid(
            "role",
            "not_an_admin_role",
            "只能初始化三员账户",
            "only the three administrator roles are set up this way",
        )
    with UnitOfWork(deps, actor, at=now) as uow:
        uow.authorize(MANAGE_USERS, event=USER_CREATED, username=username)
        s = uow.session
        if s.scalar(select(RoleAssignment.user_id).where(RoleAssignment.role == role)):
            raise ConflictError(
                code="role_already_held",
                zh=f"已有账户担任{role_label(role)}",
                en=f"an account already holds the role {role}",
            )
        user = new_user(s, NewAccount(username, display_name, password), uow.at, role)
        uow.record(USER_CREATED, target=f"user:{user.id}", username=username, role=role)
        return user_view(s, user)


@use_case(USER_CREATED)
def create_user(
    deps: AccessDeps,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    password: str | None,
    department_id: int | None = None,
    oidc_subject: str | None = None,
    now: datetime | None = None,
) -> UserView:
    """A new account with the lowest clearance and no roles (system administrator). Without
    a password it can only sign in through SSO, so it needs `oidc_subject`."""
    new = NewAccount(username, display_name, password, department_id, oidc_subject)
    with UnitOfWork(deps, actor, at=now) as uow:
        uow.authorize(MANAGE_USERS, event=USER_CREATED, username=username)
        user = new_user(uow.session, new, uow.at)
        uow.record(
            USER_CREATED,
            target=f"user:{user.id}",
            username=username,
            department_id=department_id,
        )
        return user_view(uow.session, user)


def _target_user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFoundError(code="user_not_found", zh="用户不存在", en="no such user")
    return user


@use_case(ROLE_ASSIGNED)
def assign_role(
    deps: AccessDeps, actor: Actor, user_id: int, role: str, *, now: datetime | None = None
) -> None:
    """Give `user_id` a role (system administrator); holding it already is no change.
    三员 roles are never combined with any other: ConflictError `separation_of_duties`,
    recorded as a refusal."""
    target = f"user:{user_id}"
    with UnitOfWork(deps, actor, at=now) as uow:
        uow.authorize(MANAGE_USERS, event=ROLE_ASSIGNED, target=target, role=role)
        if role not in ROLES:
            raise invalid("role", "unknown_role", f"未知角色 {role}", f"unknown role {role}")
        s = uow.session
        user = _target_user(s, user_id)
        held = set(s.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id)))
        if role in held:
            return
        clash = separation_conflict(held, role)
        if clash is not None:
            error = _separation_of_duties(role, clash)
            raise uow.refuse(error, ROLE_ASSIGNED, target=target, role=role)
        s.add(
            RoleAssignment(
                user_id=user.id, role=role, assigned_by=actor.user_id, assigned_at=uow.at
            )
        )
        uow.record(ROLE_ASSIGNED, target=target, role=role)


@use_case("access.role_revoked")
def revoke_role(
    deps: AccessDeps, actor: Actor, user_id: int, role: str, *, now: datetime | None = None
) -> None:
    """Take a role away (system administrator); NotFoundError `role_not_held` if not held."""
    target = f"user:{user_id}"
    with UnitOfWork(deps, actor, at=now) as uow:
        uow.authorize(MANAGE_USERS, event="access.role_revoked", target=target, role=role)
        row = uow.session.get(RoleAssignment, (user_id, role))
        if row is None:
            raise NotFoundError(
                code="role_not_held", zh="该用户没有此角色", en="the user does not hold this role"
            )
        uow.session.delete(row)
        uow.record("access.role_revoked", target=target, role=role)


@use_case("access.clearance_set")
def set_clearance(
    deps: AccessDeps, actor: Actor, user_id: int, clearance: str, *, now: datetime | None = None
) -> None:
    """Set the 密级 a person may see (security administrator only)."""
    target = f"user:{user_id}"
    with UnitOfWork(deps, actor, at=now) as uow:
        uow.authorize(
            SET_CLEARANCE, event="access.clearance_set", target=target, clearance=clearance
        )
        if clearance not in CLASSIFICATIONS:
            raise invalid(
                "clearance",
                "unknown_classification",
                f"涉密等级须为：{'、'.join(CLASSIFICATIONS)}",
                f"the clearance must be one of: {', '.join(CLASSIFICATIONS)}",
            )
        user = _target_user(uow.session, user_id)
        before = user.clearance
        user.clearance = clearance
        uow.record("access.clearance_set", target=target, before=before, after=clearance)


@use_case()
def my_account(deps: AccessDeps, actor: Actor) -> UserView:
    """The signed-in person's own account (anyone may see their own)."""
    with UnitOfWork(deps, actor) as uow:
        return user_view(uow.session, own_account(uow.session, actor))


@use_case()
def list_users(deps: AccessDeps, actor: Actor) -> list[UserView]:
    """Every account, by id (system administrator, or the operator's console). A refusal
    is raised but not recorded: a read that disclosed nothing changed nothing."""
    with UnitOfWork(deps, actor) as uow:
        decision = uow.decide(MANAGE_USERS)
        if not decision.allowed:
            raise denied(decision)
        users = uow.session.scalars(select(User).order_by(User.id))
        return [user_view(uow.session, u) for u in users]
