"""Setting up who acts, through access's own use cases: the three administrators (三员),
departments, people with a role and a clearance, sign-ins and business systems' tokens."""

from __future__ import annotations

from collections.abc import Iterable

from dangan.access import services as access
from dangan.access.subjects import actor_for_username
from dangan.access.views import TokenView
from dangan.bootstrap import Container
from dangan.policy.domain import AUDITOR, LOWEST_CLEARANCE, SECURITY_ADMIN, SYSADMIN
from dangan.usecase import Actor

PW = "Archive-2024!"
SETUP = Actor.internal("system:setup")
CONSOLE = Actor.internal("cli")
ADMIN_ROLES = (SYSADMIN, SECURITY_ADMIN, AUDITOR)  # in the order they are set up


def admins(c: Container, password: str = PW) -> dict[str, Actor]:
    """The three administrators, by role; user names are the roles without "_" (sysadmin,
    securityadmin, auditor)."""
    for role in ADMIN_ROLES:
        name = role.replace("_", "")
        access.bootstrap_account(
            c, SETUP, username=name, display_name=role, password=password, role=role
        )
    return {role: actor(c, role.replace("_", "")) for role in ADMIN_ROLES}


def department(c: Container, admin: Actor, code: str, name: str, parent: int | None = None) -> int:
    return access.create_department(c, admin, code=code, name=name, parent_id=parent).id


def person(
    c: Container,
    admin: Actor,
    security_admin: Actor | None,
    username: str,
    *,
    department: int | None,
    role: str | None,
    clearance: str = LOWEST_CLEARANCE,
    password: str | None = PW,
    display_name: str | None = None,
    oidc_subject: str | None = None,
) -> int:
    """A new account with `role` (if any) and `clearance` (set by `security_admin` unless it
    is the lowest, which every account starts with); returns its id."""
    user = access.create_user(
        c,
        admin,
        username=username,
        display_name=display_name or username,
        password=password,
        department_id=department,
        oidc_subject=oidc_subject,
    )
    if role is not None:
        access.assign_role(c, admin, user.id, role)
    if clearance != LOWEST_CLEARANCE:
        assert security_admin is not None, "only the security administrator sets clearances"
        access.set_clearance(c, security_admin, user.id, clearance)
    return user.id


def sign_in_token(
    c: Container, username: str, password: str = PW, *, ip: str = "", user_agent: str = ""
) -> str:
    """The session token of a fresh sign-in."""
    return access.sign_in(c, Actor.visitor(ip, user_agent), username, password).token


def actor(c: Container, username: str) -> Actor:
    """The person `username`, as a console command acting as them would be."""
    return actor_for_username(c, username)


def issue_token(
    c: Container, system: str, scopes: Iterable[str], rate: int = 60
) -> tuple[str, TokenView]:
    """A business system's token, issued on the console: (plaintext, token)."""
    return access.create_token(c, CONSOLE, system, scopes, rate)
