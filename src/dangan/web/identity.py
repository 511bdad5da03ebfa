"""Who is calling: a signed-in person (session) — the `CurrentPerson` dependency.

A person's session token travels in the `dangan_session` cookie (browser; state-changing form
posts must then also carry the CSRF header, see `require_csrf`) or as `Authorization: Bearer
<session token>` (scripts). System tokens (`dgn_…`) are not people and are refused here.
Each request gets the policy's `Subject`, read afresh from the database, so a changed role or
clearance takes effect at once.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from dangan.access.services import SessionExpired, resolve_session, subject_for
from dangan.core.errors import PermissionDeniedError, UnauthenticatedError
from dangan.policy.decision import Subject
from dangan.systems.domain import PREFIX as SYSTEM_TOKEN_PREFIX
from dangan.web.deps import RuntimeDep

SESSION_COOKIE = "dangan_session"
CSRF_COOKIE = "dangan_csrf"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Person:
    """A signed-in person for the span of one request."""

    user_id: int
    username: str
    subject: Subject
    ip: str
    user_agent: str
    via_cookie: bool


def _not_signed_in() -> UnauthenticatedError:
    return UnauthenticatedError(
        code="not_signed_in",
        zh="未登录或会话已失效，请重新登录",
        en="not signed in, or the session has ended; please sign in",
    )


def session_token(request: Request) -> tuple[str | None, bool]:
    """(token, came from the cookie)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None, False
    return request.cookies.get(SESSION_COOKIE), True


def require_csrf(request: Request) -> None:
    """Double-submit check for cookie-authenticated state changes: header == cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise PermissionDeniedError(
            code="csrf_failed",
            zh="请求缺少有效的防伪令牌（CSRF），已拒绝",
            en="the request lacks a valid anti-forgery (CSRF) token; refused",
        )


def current_person(request: Request, rt: RuntimeDep) -> Person:
    token, via_cookie = session_token(request)
    if not token or token.startswith(f"{SYSTEM_TOKEN_PREFIX}_"):
        raise _not_signed_in()
    ip = request.client.host if request.client else ""
    try:
        user = resolve_session(rt.container, token, ip)
    except SessionExpired as exc:
        raise _not_signed_in() from exc
    if via_cookie and request.method not in ("GET", "HEAD", "OPTIONS"):
        require_csrf(request)
    subject = subject_for(rt.container, user)
    return Person(
        user_id=user.id,
        username=user.username,
        subject=subject,
        ip=ip,
        user_agent=request.headers.get("user-agent", "")[:200],
        via_cookie=via_cookie,
    )


CurrentPerson = Annotated[Person, Depends(current_person)]
