"""Signing in through the organisation's identity provider (OIDC single sign-on).

The provider's `sub` is looked up in `users.oidc_subject`; an unknown one is refused, or —
with `auto_provision` — becomes a staff account of the default department, made by
`Actor.internal("system:oidc")`. Every refusal is on the ledger as a failed `auth.sign_in`
with method "oidc", under `sso:<sub>` (or `sso:unknown` before the token told who).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dangan.access.accounts import USER_CREATED, NewAccount, new_user
from dangan.access.domain import USERNAME
from dangan.access.models import Department, User
from dangan.access.oidc import SSO_REFUSALS, OidcClient, sso_disabled
from dangan.access.ports import AccessDeps
from dangan.access.sessions import SIGN_IN, start_session
from dangan.access.views import SignedIn
from dangan.core.errors import ConfigurationError, PermissionDeniedError
from dangan.core.invisible import strip_invisible
from dangan.policy.domain import MANAGE_USERS, STAFF
from dangan.usecase import Actor, UnitOfWork, use_case

PROVISIONER = "system:oidc"


@use_case(SIGN_IN, USER_CREATED)
def sso_sign_in(
    deps: AccessDeps,
    actor: Actor,
    client: OidcClient,
    *,
    cookie: str | None,
    code: str | None,
    state: str | None,
    error: str | None = None,
) -> SignedIn:
    """Complete the provider's callback (`actor`: the visitor coming back) and open a
    session; refusals are recorded and raised (see `oidc.SSO_REFUSALS`)."""
    if not deps.settings.oidc.enabled:
        raise sso_disabled()
    sub: str | None = None
    try:
        claims = client.callback_claims(cookie=cookie, code=code, state=state, error=error)
        sub = str(claims["sub"])
        user_id = _user_for(deps, sub, claims)
    except SSO_REFUSALS as exc:
        with UnitOfWork(deps, actor) as uow:
            uow.record(
                SIGN_IN,
                outcome="failure",
                actor_name=f"sso:{sub[:200]}" if sub else "sso:unknown",
                reason=exc.code,
                method="oidc",
            )
        raise
    return start_session(deps, actor, user_id, method="oidc")


def _linked(deps: AccessDeps, sub: str) -> int | None:
    with deps.sessions() as s:
        return s.scalar(select(User.id).where(User.oidc_subject == sub))


def _user_for(deps: AccessDeps, sub: str, claims: dict[str, Any]) -> int:
    found = _linked(deps, sub)
    if found is not None:
        return found
    if not deps.settings.oidc.auto_provision:
        raise PermissionDeniedError(
            code="sso_unknown_user",
            zh="该统一身份认证账户未关联档案系统用户，请联系系统管理员",
            en="this single sign-on account is not linked to a Dangan user; "
            "ask the system administrator",
        )
    try:
        return provision_sso_user(deps, Actor.internal(PROVISIONER), sub=sub, claims=claims)
    except IntegrityError:
        # A parallel callback for the same subject created it first.
        again = _linked(deps, sub)
        if again is None:
            raise
        return again


@use_case(USER_CREATED)
def provision_sso_user(deps: AccessDeps, actor: Actor, *, sub: str, claims: dict[str, Any]) -> int:
    """A staff account of the SSO default department for an unknown subject (`actor`:
    `Actor.internal("system:oidc")`); returns its id."""
    cfg = deps.settings.oidc
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(MANAGE_USERS, event=USER_CREATED, oidc_subject=sub)
        s = uow.session
        dept_id: int | None = None
        if cfg.default_department_code:
            dept_id = s.scalar(
                select(Department.id).where(
                    Department.fonds_code == deps.settings.default_fonds,
                    Department.code == cfg.default_department_code,
                )
            )
            if dept_id is None:
                raise ConfigurationError(
                    code="sso_no_department",
                    zh=f"统一身份认证默认部门 {cfg.default_department_code} 不存在",
                    en=f"the SSO default department {cfg.default_department_code} does not exist",
                )
        username = _free_username(s, sub, claims)
        # The provider's name as given, less what would make it display as something else.
        display = strip_invisible(str(claims.get("name") or username)).strip()[:100] or username
        user = new_user(s, NewAccount(username, display, None, dept_id, sub), uow.at, STAFF)
        uow.record(
            USER_CREATED,
            target=f"user:{user.id}",
            username=username,
            role=STAFF,
            department_id=dept_id,
            oidc_subject=sub,
        )
        return user.id


def _free_username(s: Session, sub: str, claims: dict[str, Any]) -> str:
    """preferred_username or email when valid and free, else one derived from `sub`."""
    fallback = "sso-" + hashlib.sha256(sub.encode()).hexdigest()[:16]
    for candidate in (claims.get("preferred_username"), claims.get("email"), fallback):
        if (
            isinstance(candidate, str)
            and USERNAME.match(candidate)
            and s.scalar(select(User.id).where(User.username == candidate)) is None
        ):
            return candidate
    return f"{fallback}-{secrets.token_hex(3)}"
