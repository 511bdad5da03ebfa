"""TEMPORARY in the lead's branch (the access helper owns the real one): who is calling, as
FastAPI dependencies returning an Actor."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from dangan.access.services import SessionExpired, resolve_session, subject_for
from dangan.adapters.http import client_of, runtime
from dangan.core.errors import PermissionDeniedError, UnauthenticatedError
from dangan.systems.domain import PREFIX as SYSTEM_TOKEN_PREFIX
from dangan.systems.domain import SCOPE_READ_CATALOGUE, SCOPE_SUBMIT
from dangan.systems.services import authenticate
from dangan.usecase import Actor

SESSION_COOKIE = "dangan_session"
CSRF_COOKIE = "dangan_csrf"
CSRF_HEADER = "X-CSRF-Token"


def _not_signed_in() -> UnauthenticatedError:
    return UnauthenticatedError(
        code="not_signed_in",
        zh="未登录或会话已失效，请重新登录",
        en="not signed in, or the session has ended; please sign in",
    )


def session_token(request: Request) -> tuple[str | None, bool]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None, False
    return request.cookies.get(SESSION_COOKIE), True


def require_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise PermissionDeniedError(
            code="csrf_failed",
            zh="请求缺少有效的防伪令牌（CSRF），已拒绝",
            en="the request lacks a valid anti-forgery (CSRF) token; refused",
        )


def current_person(request: Request) -> Actor:
    c = cast(Any, runtime(request).deps)
    token, via_cookie = session_token(request)
    if not token or token.startswith(f"{SYSTEM_TOKEN_PREFIX}_"):
        raise _not_signed_in()
    ip, _ = client_of(request)
    try:
        user = resolve_session(c, token, ip)
    except SessionExpired as exc:
        raise _not_signed_in() from exc
    if via_cookie and request.method not in ("GET", "HEAD", "OPTIONS"):
        require_csrf(request)
    subject = subject_for(c, user)
    return Actor.person(subject, ip, request.headers.get("user-agent", "")[:200])


CurrentPerson = Annotated[Actor, Depends(current_person)]


@dataclass(frozen=True)
class SystemCaller:
    actor: Actor
    token_id: str
    secret: str


def _system(request: Request, *scopes: str) -> SystemCaller:
    rt = runtime(request)
    auth = request.headers.get("authorization", "")
    secret = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    token = authenticate(cast(Any, rt.deps), secret, scopes)
    rt.limiter.check(token.id, token.rate_limit_per_minute)
    ip, ua = client_of(request)
    return SystemCaller(
        Actor.system(token.system, token.scopes, ip, ua[:200]), token.id, secret or ""
    )


def submit_caller(request: Request) -> SystemCaller:
    return _system(request, SCOPE_SUBMIT)


def read_caller(request: Request) -> SystemCaller:
    return _system(request, SCOPE_SUBMIT, SCOPE_READ_CATALOGUE)


SubmitCaller = Annotated[SystemCaller, Depends(submit_caller)]
ReadCaller = Annotated[SystemCaller, Depends(read_caller)]


def search_caller(request: Request) -> Actor:
    auth = request.headers.get("authorization", "")
    secret = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not secret.startswith(f"{SYSTEM_TOKEN_PREFIX}_"):
        return current_person(request)
    return _system(request, SCOPE_READ_CATALOGUE).actor


SearchCaller = Annotated[Actor, Depends(search_caller)]
