"""Establishing who acts: a person by a live session, a business system by its token.

These are not use cases: they decide which `Actor` a use case is done by. Both read without a
write lock and write only bookkeeping (a session's idle clock, a token's last use), rarely, so
most requests cost no write transaction. A refused token is on the ledger
(`auth.token_denied`); an expired session is not (its owner simply signs in again).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select, update

from dangan.access.domain import (
    STATUS_ACTIVE,
    TOUCH_INTERVAL,
    aware,
    denied,
    hash_matches,
    session_token_hash,
    token_id_of,
    unauthenticated,
)
from dangan.access.models import ApiToken, AuthSession, User
from dangan.access.ports import AccessDeps
from dangan.access.views import TokenView
from dangan.core.clock import utcnow
from dangan.usecase import Actor, UnitOfWork

LAST_USED_RESOLUTION = timedelta(minutes=1)  # how stale a token's last use may get


def resolve_session(deps: AccessDeps, token: str, ip: str = "", now: datetime | None = None) -> int:
    """The account id of a live session, whose idle clock restarts; else UnauthenticatedError
    `session_expired` (unknown, revoked, idle or past its absolute limit, account disabled).

    Read without a write lock; the idle clock is only written when it moved by more than
    `TOUCH_INTERVAL` (or the address changed).
    """
    at = now or utcnow()
    with deps.sessions() as s:
        row = s.execute(
            select(AuthSession).where(AuthSession.token_hash == session_token_hash(token))
        ).scalar_one_or_none()
        if (
            row is None
            or row.revoked_at is not None
            or at >= aware(row.expires_at)
            or at - aware(row.last_seen_at) >= timedelta(seconds=row.idle_seconds)
        ):
            raise unauthenticated("session_expired")
        user = s.get(User, row.user_id)
        if user is None or user.status != STATUS_ACTIVE:
            raise unauthenticated("session_expired")
        stale = at - aware(row.last_seen_at) >= TOUCH_INTERVAL or row.last_ip != ip[:45]
        session_id, user_id = row.id, user.id
    if stale:
        with deps.sessions.begin() as s:
            s.execute(
                update(AuthSession)
                .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
                .values(last_seen_at=at, last_ip=ip[:45])
            )
    return user_id


def authenticate_token(
    deps: AccessDeps, plaintext: str | None, scopes: str | Iterable[str]
) -> TokenView:
    """The token presented, if it is valid, unrevoked and holds one of `scopes`.

    Raises UnauthenticatedError (`token_missing`, `token_invalid`, `token_revoked`) or
    PermissionDeniedError (`scope_missing`); each but a missing token is recorded as a denied
    `auth.token_denied`, whose details are the reason alone.
    """
    if not plaintext:
        raise denied("token_missing")  # no attempt was made: not worth a ledger entry
    wanted = {scopes} if isinstance(scopes, str) else set(scopes)
    tid = token_id_of(plaintext)
    with deps.sessions() as s:
        row = s.get(ApiToken, tid) if tid else None
        stored = row.token_hash if row else None
        token = TokenView.of(row) if row else None
    if not hash_matches(plaintext, stored) or token is None:
        _refuse(deps, "token_invalid", None, tid)
    if token.revoked_at is not None:
        _refuse(deps, "token_revoked", token, tid)
    if not wanted & set(token.scopes):
        _refuse(deps, "scope_missing", token, tid)
    return _touch(deps, token)


def _refuse(deps: AccessDeps, code: str, token: TokenView | None, tid: str | None) -> NoReturn:
    # The system the token names, or nobody known; no address: the event is the reason alone.
    who = Actor.system(token.system, token.scopes) if token else Actor.visitor()
    target = f"token:{tid}" if tid else "token:unparseable"
    with UnitOfWork(deps, who) as uow:
        raise uow.refuse(denied(code), "auth.token_denied", target=target)


def _touch(deps: AccessDeps, token: TokenView) -> TokenView:
    """Refresh `last_used_at`, at most once a `LAST_USED_RESOLUTION`, so reads stay cheap."""
    now = utcnow()
    last = token.last_used_at
    if last is not None and now - aware(last) < LAST_USED_RESOLUTION:
        return token
    with deps.sessions.begin() as s:
        row = s.get(ApiToken, token.id)
        if row is not None:
            row.last_used_at = now
    return replace(token, last_used_at=now)
