"""Who is calling over HTTP, as FastAPI dependencies that hand a route its `Actor`.

- `CurrentPerson`: a signed-in person. The session token travels in the `dangan_session`
  cookie (browsers; a state-changing request must then also echo the `dangan_csrf` cookie in
  the `X-CSRF-Token` header: double submit) or as `Authorization: Bearer <session token>`
  (scripts). System tokens (`dgn_…`) are not people and are refused here.
- `SubmitCaller` / `ReadCaller`: a business system with a token holding `submit` (or, to
  read, `submit` or `read_catalogue`), counted against the token's rate limit.
- `SearchCaller`: a system token with `read_catalogue`, else a signed-in person.
- `LedgerReader`: a system token with `read_ledger`, else a signed-in person.

Each request gets the policy's `Subject` read afresh, so a changed role or clearance takes
effect at once.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dangan.access.domain import (
    SCOPE_READ_CATALOGUE,
    SCOPE_READ_LEDGER,
    SCOPE_SUBMIT,
    is_system_token,
    unauthenticated,
)
from dangan.access.identify import authenticate_token, resolve_session
from dangan.access.ports import AccessDeps
from dangan.access.subjects import person_actor
from dangan.adapters.http import client_of, deps_for, runtime
from dangan.core.errors import PermissionDeniedError, UnauthenticatedError
from dangan.usecase import Actor

SESSION_COOKIE = "dangan_session"
CSRF_COOKIE = "dangan_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
UA_KEPT = 200  # of the user agent, in the events of requests by people and systems

AccessDepsDep = Annotated[AccessDeps, Depends(deps_for(AccessDeps))]
_bearer = HTTPBearer(
    auto_error=False,
    description="系统令牌 / system token: `Authorization: Bearer dgn_<id>_<secret>`",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _where(request: Request) -> tuple[str, str]:
    ip, user_agent = client_of(request)
    return ip, user_agent[:UA_KEPT]


def _bearer_value(request: Request) -> str | None:
    """What follows `Authorization: Bearer`, or None without such a header."""
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def session_token(request: Request) -> tuple[str | None, bool]:
    """(the presented session token, whether it came from the cookie)."""
    presented = _bearer_value(request)
    if presented is not None:
        return presented or None, False
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


def current_person(request: Request, deps: AccessDepsDep) -> Actor:
    """The signed-in person; UnauthenticatedError `not_signed_in` otherwise, and
    PermissionDeniedError `csrf_failed` for a cookie-carried change without the header."""
    token, via_cookie = session_token(request)
    if not token or is_system_token(token):
        raise unauthenticated("not_signed_in")
    ip, user_agent = _where(request)
    try:
        user_id = resolve_session(deps, token, ip)
        if via_cookie and request.method not in SAFE_METHODS:
            require_csrf(request)
        return person_actor(deps, user_id, ip, user_agent)
    except UnauthenticatedError as exc:
        raise unauthenticated("not_signed_in") from exc


CurrentPerson = Annotated[Actor, Depends(current_person)]


@dataclass(frozen=True)
class SystemCaller:
    """A business system for the span of one request. `secret` is the token it presented,
    kept only for this request: it keys the HMAC of the callbacks the request causes."""

    actor: Actor
    token_id: str
    secret: str

    @property
    def system(self) -> str:
        return self.actor.name


def _system_caller(
    request: Request, deps: AccessDeps, secret: str | None, scopes: tuple[str, ...]
) -> SystemCaller:
    token = authenticate_token(deps, secret, scopes)
    runtime(request).limiter.check(token.id, token.rate_limit_per_minute)
    ip, user_agent = _where(request)
    actor = Actor.system(token.system, token.scopes, ip, user_agent)
    return SystemCaller(actor, token.id, secret or "")


def system_caller_with(
    *scopes: str,
) -> Callable[[Request, AccessDeps, HTTPAuthorizationCredentials | None], SystemCaller]:
    """A dependency admitting a system token that holds one of `scopes`."""

    # A sync dependency: FastAPI runs it in the thread pool, so DB work does not block the loop.
    def dependency(request: Request, deps: AccessDepsDep, creds: BearerDep) -> SystemCaller:
        return _system_caller(request, deps, creds.credentials if creds else None, scopes)

    return dependency


SubmitCaller = Annotated[SystemCaller, Depends(system_caller_with(SCOPE_SUBMIT))]
ReadCaller = Annotated[
    SystemCaller, Depends(system_caller_with(SCOPE_SUBMIT, SCOPE_READ_CATALOGUE))
]


def search_caller(request: Request, deps: AccessDepsDep) -> Actor:
    """A system token (`dgn_…`) with read_catalogue, else a signed-in person."""
    secret = _bearer_value(request) or ""
    if not is_system_token(secret):
        return current_person(request, deps)
    return _system_caller(request, deps, secret, (SCOPE_READ_CATALOGUE,)).actor


SearchCaller = Annotated[Actor, Depends(search_caller)]


def ledger_reader(request: Request, deps: AccessDepsDep) -> Actor:
    """A system token (`dgn_…`) with read_ledger, else a signed-in person (the policy then
    lets only auditors read the ledger)."""
    secret = _bearer_value(request) or ""
    if not is_system_token(secret):
        return current_person(request, deps)
    return _system_caller(request, deps, secret, (SCOPE_READ_LEDGER,)).actor


LedgerReader = Annotated[Actor, Depends(ledger_reader)]
