"""People sign in and out over HTTP, see who they are, and set up TOTP.

A successful sign-in answers the session token in the body (for scripts, as a Bearer token)
and sets two cookies for browsers: `dangan_session` (HttpOnly) and `dangan_csrf`, which the
page's script copies into the `X-CSRF-Token` header of every state-changing request.
Every refusal of a sign-in looks the same, so the answer reveals nothing about the account.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from dangan.access import services as access
from dangan.access.models import RoleAssignment, User
from dangan.adapters.problems import PROBLEM_JSON
from dangan.bootstrap import Container
from dangan.core.errors import UnauthenticatedError
from dangan.settings import Settings
from dangan.web.identity_shim import CSRF_COOKIE, SESSION_COOKIE, CurrentPerson, session_token
from dangan.web.shim import ContainerDep

router = APIRouter(tags=["auth 登录"])


def problem_docs(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers, e.g. `problem_docs(s401="...")`."""
    return {
        int(k[1:]): {"description": v, "content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
        for k, v in by_status.items()
    }


_PERSON = problem_docs(s401="未登录 / not signed in", s403="CSRF 校验失败 / CSRF check failed")


class SignInBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    totp_code: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$")


class TotpConfirmBody(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6,8}$")


def client_of(request: Request) -> tuple[str, str]:
    """(IP, user agent) for the ledger."""
    ip = request.client.host if request.client else ""
    return ip, request.headers.get("user-agent", "")[:300]


def timeouts(settings: Settings) -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=settings.session.idle_minutes),
        timedelta(hours=settings.session.absolute_hours),
    )


def set_session_cookies(response: Response, settings: Settings, token: str) -> str:
    """Set the session and CSRF cookies; returns the CSRF token."""
    csrf = secrets.token_urlsafe(32)
    set_cookies_with(response, settings, token, csrf)
    return csrf


def set_cookies_with(response: Response, settings: Settings, token: str, csrf: str) -> None:
    max_age = settings.session.absolute_hours * 3600
    secure = settings.session.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    # Readable by the page's script on purpose: it echoes it in the CSRF header.
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = settings.session.cookie_secure
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="strict")


def user_view(c: Container, user_id: int) -> dict[str, Any]:
    with c.sessions() as s:
        user = s.get(User, user_id)
        if user is None:
            raise _not_signed_in()
        roles = sorted(
            s.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id))
        )
        return {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "roles": roles,
            "department_id": user.department_id,
            "clearance": user.clearance,
            "totp_enabled": user.totp_enabled,
        }


def _not_signed_in() -> UnauthenticatedError:
    return UnauthenticatedError(
        code="not_signed_in",
        zh="未登录或会话已失效，请重新登录",
        en="not signed in, or the session has ended; please sign in",
    )


def signed_in_body(c: Container, user_id: int, token: str, csrf: str) -> dict[str, Any]:
    return {"user": user_view(c, user_id), "session_token": token, "csrf_token": csrf}


@router.post(
    "/api/v1/auth/sign-in",
    summary="登录 / sign in with user name and password",
    responses=problem_docs(
        s400="请求体不是 JSON / the body is not JSON",
        s401="登录失败或需要动态验证码 / sign-in failed, or a one-time code is needed",
        s422="请求格式有误 / malformed request",
    ),
)
def sign_in(body: SignInBody, request: Request, response: Response, c: ContainerDep) -> Any:
    ip, ua = client_of(request)
    idle, absolute = timeouts(c.settings)
    try:
        token, user = access.sign_in(
            c,
            body.username,
            body.password,
            body.totp_code,
            ip=ip,
            user_agent=ua,
            idle_timeout=idle,
            absolute_timeout=absolute,
        )
    except (access.AuthenticationError, access.TotpRequired) as exc:
        # These carry no HTTP status of their own: both are 401.
        raise UnauthenticatedError(code=exc.code, zh=exc.zh, en=exc.en) from exc
    csrf = set_session_cookies(response, c.settings, token)
    response.headers["Cache-Control"] = "no-store"
    return signed_in_body(c, user.id, token, csrf)


@router.post(
    "/api/v1/auth/sign-out",
    status_code=204,
    summary="退出登录 / sign out (ends the session)",
    responses=_PERSON,
)
def sign_out(person: CurrentPerson, request: Request, c: ContainerDep) -> Response:
    token, _ = session_token(request)
    if token:
        access.sign_out(c, token, ip=person.ip, user_agent=person.user_agent)
    response = Response(status_code=204)
    clear_session_cookies(response, c.settings)
    return response


@router.get("/api/v1/me", summary="当前用户 / the signed-in person", responses=_PERSON)
def me(person: CurrentPerson, c: ContainerDep) -> Any:
    return user_view(c, person.user_id)


@router.post(
    "/api/v1/me/totp", summary="开始绑定动态口令 / start TOTP enrolment", responses=_PERSON
)
def totp_enroll(person: CurrentPerson, response: Response, c: ContainerDep) -> Any:
    uri = access.enroll_totp(c, person.user_id)
    response.headers["Cache-Control"] = "no-store"  # the URI holds the secret
    return {"otpauth_uri": uri}


@router.post(
    "/api/v1/me/totp/confirm",
    summary="确认动态口令 / confirm TOTP with a code",
    responses={
        **_PERSON,
        **problem_docs(
            s400="请求体不是 JSON / the body is not JSON", s422="验证码不正确 / wrong code"
        ),
    },
)
def totp_confirm(person: CurrentPerson, body: TotpConfirmBody, c: ContainerDep) -> Any:
    access.confirm_totp(c, person.user_id, body.code)
    return {"totp_enabled": True}
