"""Use cases for business systems: issue, list, revoke and check tokens; track API submissions.

Token create/revoke and every refused authentication are ledger events. A successful use is
not (the submission's own event already names `system:<name>` as the actor); it only
refreshes `last_used_at`, at most once a minute, so reads stay cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select

from dangan.bootstrap import Container
from dangan.core.clock import iso, utcnow
from dangan.core.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    UnauthenticatedError,
)
from dangan.systems.domain import (
    check_scopes,
    denied,
    hash_matches,
    new_plaintext,
    new_token_id,
    token_hash,
    token_id_of,
)
from dangan.systems.models import ApiToken

log = logging.getLogger("dangan.systems")
LAST_USED_RESOLUTION = timedelta(minutes=1)
STATUS_PROCESSING = "processing"
STATUS_REJECTED = "rejected"


def _check_system(system: str) -> str:
    name = system.strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise InvalidInputError.of(
            [
                Problem(
                    "system",
                    "invalid_system",
                    "系统名须为 1–64 个字母、数字或 - _ .",
                    "the system name must be 1–64 letters, digits or - _ .",
                )
            ]
        )
    return name


def create_token(
    c: Container, system: str, scopes: Iterable[str], rate: int = 60, *, actor: str = "cli"
) -> tuple[str, ApiToken]:
    """Issue a token; returns (plaintext shown once, the stored row)."""
    name = _check_system(system)
    clean = check_scopes(scopes)
    if rate < 0:
        raise InvalidInputError.of(
            [
                Problem(
                    "rate", "invalid_rate", "速率上限不得为负", "the rate limit may not be negative"
                )
            ]
        )
    tid = new_token_id()
    plaintext = new_plaintext(tid)
    now = utcnow()
    token = ApiToken(
        id=tid,
        system=name,
        scopes_text=" ".join(clean),
        token_hash=token_hash(plaintext),
        created_at=now,
        revoked_at=None,
        last_used_at=None,
        rate_limit_per_minute=rate,
    )
    with c.sessions.begin() as session:
        session.add(token)
        c.ledger.append(
            session,
            {
                "type": "system.token_created",
                "actor": actor,
                "at": iso(now),
                "target": f"token:{tid}",
                "outcome": "success",
                "details": {"system": name, "scopes": clean, "rate_limit_per_minute": rate},
            },
        )
    return plaintext, token


def list_tokens(c: Container) -> list[ApiToken]:
    with c.sessions() as session:
        return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


def revoke_token(c: Container, token_id: str, *, actor: str = "cli") -> ApiToken:
    """Revoke at once; revoking twice is harmless and logged once."""
    with c.sessions.begin() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFoundError(
                code="token_not_found",
                zh=f"找不到访问令牌：{token_id}",
                en=f"no such token: {token_id}",
            )
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            c.ledger.append(
                session,
                {
                    "type": "system.token_revoked",
                    "actor": actor,
                    "at": iso(token.revoked_at),
                    "target": f"token:{token.id}",
                    "outcome": "success",
                    "details": {"system": token.system},
                },
            )
        return token


def _deny(
    c: Container, code: str, token: ApiToken | None, tid: str | None
) -> UnauthenticatedError | PermissionDeniedError:
    """Log the refusal in its own transaction, then hand back the error to raise."""
    with c.sessions.begin() as session:
        c.ledger.append(
            session,
            {
                "type": "auth.token_denied",
                "actor": f"system:{token.system}" if token else "anonymous",
                "at": iso(utcnow()),
                "target": f"token:{tid}" if tid else "token:unparseable",
                "outcome": "denied",
                "details": {"reason": code},
            },
        )
    return denied(code)


def authenticate(c: Container, plaintext: str | None, scope: str | Iterable[str]) -> ApiToken:
    """The token's row if it is valid, unrevoked and holds one of `scope`.

    Raises UnauthenticatedError (token_missing/_invalid/_revoked), PermissionDeniedError
    (scope_missing).
    """
    if not plaintext:
        raise denied("token_missing")  # no attempt was made: not worth a ledger entry
    wanted = {scope} if isinstance(scope, str) else set(scope)
    tid = token_id_of(plaintext)
    with c.sessions() as session:
        token = session.get(ApiToken, tid) if tid else None
    if not hash_matches(plaintext, token.token_hash if token else None) or token is None:
        raise _deny(c, "token_invalid", None, tid)
    if token.revoked_at is not None:
        raise _deny(c, "token_revoked", token, tid)
    if not wanted & set(token.scopes):
        raise _deny(c, "scope_missing", token, tid)
    _touch(c, token)
    return token


def _touch(c: Container, token: ApiToken) -> None:
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite returns naive datetimes
        last = last.replace(tzinfo=now.tzinfo)
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    with c.sessions.begin() as session:
        row = session.get(ApiToken, token.id)
        if row is not None:
            row.last_used_at = now
    token.last_used_at = now
