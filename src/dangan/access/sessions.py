"""Signing in and out: a password (and TOTP) sign-in, a session for somebody an identity
provider vouched for, and signing out.

A session is a random token of which only the SHA-256 is stored; it ends after an idle and an
absolute limit (the instance's `[session]` settings). Unknown, locked, disabled and
wrong-password attempts fail alike, after one argon2 verification each, so neither the answer
nor its timing tells them apart; the failure and the failed-attempt counter are committed
before the refusal is raised.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from dangan.access.domain import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    STATUS_ACTIVE,
    aware,
    session_token_hash,
    unauthenticated,
)
from dangan.access.models import AuthSession, User
from dangan.access.passwords import hash_password, needs_rehash, verify_password
from dangan.access.ports import AccessDeps
from dangan.access.totp import code_step
from dangan.access.views import SignedIn, user_view
from dangan.core.clock import iso
from dangan.core.errors import DanganError
from dangan.db.locking import for_update
from dangan.usecase import Actor, UnitOfWork, use_case

SIGN_IN = "auth.sign_in"


def _limits(
    deps: AccessDeps, idle: timedelta | None, absolute: timedelta | None
) -> tuple[timedelta, timedelta]:
    """The session limits: the instance's settings unless a caller (a test) gives its own."""
    cfg = deps.settings.session
    return (
        idle or timedelta(minutes=cfg.idle_minutes),
        absolute or timedelta(hours=cfg.absolute_hours),
    )


def _open_session(uow: UnitOfWork, user: User, limits: tuple[timedelta, timedelta]) -> SignedIn:
    """A new session row for `user`, opened from where the actor is."""
    token = secrets.token_urlsafe(32)
    idle, absolute = limits
    ip = uow.actor.ip
    uow.session.add(
        AuthSession(
            token_hash=session_token_hash(token),
            user_id=user.id,
            created_at=uow.at,
            last_seen_at=uow.at,
            idle_seconds=int(idle.total_seconds()),
            expires_at=uow.at + absolute,
            ip=ip,
            last_ip=ip,
            user_agent=uow.actor.user_agent,
        )
    )
    return SignedIn(token, user_view(uow.session, user))


@use_case(SIGN_IN, "auth.lockout")
def sign_in(
    deps: AccessDeps,
    actor: Actor,
    username: str,
    password: str,
    totp_code: str | None = None,
    *,
    now: datetime | None = None,
    idle_timeout: timedelta | None = None,
    absolute_timeout: timedelta | None = None,
) -> SignedIn:
    """Check the credentials and open a session (`actor`: the visitor signing in).

    UnauthenticatedError `sign_in_failed` for every refusal, or `totp_required` when only the
    one-time code is missing; either way the failure is on the ledger first.
    """
    error: DanganError = unauthenticated("sign_in_failed")
    with UnitOfWork(deps, actor, at=now) as uow:
        user = uow.session.execute(
            for_update(select(User).where(User.username == username))
        ).scalar_one_or_none()
        if user is None:
            verify_password(None, password)  # an unknown name takes as long as a known one
            name = f"unknown:{username[:64]}"
            uow.record(SIGN_IN, outcome="failure", actor_name=name, reason="unknown_user")
        else:
            reason = _credential_problem(deps, user, password, totp_code, uow.at)
            if reason is None:
                if user.password_hash and needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                user.failed_attempts = 0
                user.locked_until = None
                signed = _open_session(uow, user, _limits(deps, idle_timeout, absolute_timeout))
                uow.record(SIGN_IN, target=f"user:{user.id}", actor_name=user.username)
                return signed
            _count_failure(uow, user, reason)
            if reason == "totp_required":
                error = unauthenticated("totp_required")
    raise error  # after the commit: the failure and the counter stay


def _credential_problem(
    deps: AccessDeps, user: User, password: str, totp_code: str | None, at: datetime
) -> str | None:
    """Why the credentials do not sign `user` in (the ledger's reason), or None."""
    password_ok = verify_password(user.password_hash, password)  # always: equal timing
    if user.status != STATUS_ACTIVE:
        return "disabled"
    if user.locked_until is not None and aware(user.locked_until) > at:
        return "locked"
    if not password_ok:
        return "bad_password"
    if user.totp_enabled:
        if not totp_code:
            return "totp_required"
        step = code_step(deps, user, totp_code, at)
        # a code is good once: not again within its window
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return "bad_totp"
        user.totp_last_step = step
    return None


def _count_failure(uow: UnitOfWork, user: User, reason: str) -> None:
    """Record a refused sign-in; wrong secrets count towards the lockout."""
    target = f"user:{user.id}"
    if reason in ("bad_password", "bad_totp"):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.failed_attempts = 0
            user.locked_until = uow.at + LOCKOUT
            until = iso(uow.at + LOCKOUT)
            uow.record("auth.lockout", target=target, actor_name=user.username, until=until)
    uow.record(SIGN_IN, outcome="failure", target=target, actor_name=user.username, reason=reason)


@use_case(SIGN_IN)
def start_session(
    deps: AccessDeps,
    actor: Actor,
    user_id: int,
    *,
    method: str = "oidc",
    now: datetime | None = None,
    idle_timeout: timedelta | None = None,
    absolute_timeout: timedelta | None = None,
) -> SignedIn:
    """Open a session for somebody an identity provider authenticated (`actor`: the visitor
    coming back from it); on the ledger like a password sign-in, with details.method.

    UnauthenticatedError `sign_in_failed` if the account is missing or disabled.
    """
    with UnitOfWork(deps, actor, at=now) as uow:
        s = uow.session
        user = s.execute(for_update(select(User).where(User.id == user_id))).scalar_one_or_none()
        target = f"user:{user_id}"
        if user is not None and user.status == STATUS_ACTIVE:
            signed = _open_session(uow, user, _limits(deps, idle_timeout, absolute_timeout))
            uow.record(SIGN_IN, target=target, actor_name=user.username, method=method)
            return signed
        name = user.username if user else target
        uow.record(
            SIGN_IN,
            outcome="failure",
            target=target,
            actor_name=name,
            reason="disabled",
            method=method,
        )
    raise unauthenticated("sign_in_failed")


@use_case("auth.sign_out")
def sign_out(deps: AccessDeps, actor: Actor, token: str, *, now: datetime | None = None) -> None:
    """End the session `token` (idempotent: an unknown or ended session is left as it is)."""
    with UnitOfWork(deps, actor, at=now) as uow:
        s = uow.session
        row = s.execute(
            select(AuthSession).where(AuthSession.token_hash == session_token_hash(token))
        ).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = uow.at
        user = s.get(User, row.user_id)
        name = user.username if user else f"user:{row.user_id}"
        uow.record("auth.sign_out", target=f"user:{row.user_id}", actor_name=name)
