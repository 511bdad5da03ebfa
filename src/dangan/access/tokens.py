"""Business systems' tokens: issue (the plaintext is shown once), list and revoke.

Issuing and revoking are ledger events; today the operator's console does both
(`Actor.internal("cli")`). Managing a system's credentials is managing who may act, so the
policy's `manage_users` decides whether anyone else may.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from dangan.access.domain import (
    check_rate,
    check_scopes,
    check_system_name,
    new_plaintext,
    new_token_id,
    token_hash,
)
from dangan.access.models import ApiToken
from dangan.access.ports import AccessDeps
from dangan.access.views import TokenView
from dangan.core.errors import NotFoundError
from dangan.policy.domain import MANAGE_USERS
from dangan.usecase import Actor, UnitOfWork, use_case
from dangan.usecase.uow import denied

# Event types (not secrets).
TOKEN_CREATED = "system.token_created"  # noqa: S105
TOKEN_REVOKED = "system.token_revoked"  # noqa: S105


@use_case(TOKEN_CREATED)
def create_token(
    deps: AccessDeps, actor: Actor, system: str, scopes: Iterable[str], rate: int = 60
) -> tuple[str, TokenView]:
    """Issue a token for `system` with `scopes`, limited to `rate` requests a minute (0: no
    limit); returns (the plaintext, shown once and never stored, the token)."""
    name = check_system_name(system)
    clean = check_scopes(scopes)
    check_rate(rate)
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(MANAGE_USERS, event=TOKEN_CREATED, system=name)
        tid = new_token_id()
        plaintext = new_plaintext(tid)
        token = ApiToken(
            id=tid,
            system=name,
            scopes_text=" ".join(clean),
            token_hash=token_hash(plaintext),
            created_at=uow.at,
            revoked_at=None,
            last_used_at=None,
            rate_limit_per_minute=rate,
        )
        uow.session.add(token)
        uow.record(
            TOKEN_CREATED,
            target=f"token:{tid}",
            system=name,
            scopes=clean,
            rate_limit_per_minute=rate,
        )
        return plaintext, TokenView.of(token)


@use_case()
def list_tokens(deps: AccessDeps, actor: Actor) -> list[TokenView]:
    """Every token, oldest first. A refusal is raised but not recorded (a read that
    disclosed nothing changed nothing)."""
    with UnitOfWork(deps, actor) as uow:
        decision = uow.decide(MANAGE_USERS)
        if not decision.allowed:
            raise denied(decision)
        rows = uow.session.scalars(select(ApiToken).order_by(ApiToken.created_at))
        return [TokenView.of(t) for t in rows]


@use_case(TOKEN_REVOKED)
def revoke_token(deps: AccessDeps, actor: Actor, token_id: str) -> TokenView:
    """Revoke at once; revoking twice is harmless and recorded once."""
    target = f"token:{token_id}"
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(MANAGE_USERS, event=TOKEN_REVOKED, target=target)
        token = uow.session.get(ApiToken, token_id)
        if token is None:
            raise NotFoundError(
                code="token_not_found",
                zh=f"找不到访问令牌：{token_id}",
                en=f"no such token: {token_id}",
            )
        if token.revoked_at is None:
            token.revoked_at = uow.at
            uow.record(TOKEN_REVOKED, target=target, system=token.system)
        return TokenView.of(token)
