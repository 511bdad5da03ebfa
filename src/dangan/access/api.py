"""People over HTTP: sign in and out, see who they are, set up TOTP, and single sign-on.

A successful sign-in answers the session token in the body (for scripts, as a Bearer token)
and sets two cookies for browsers: `dangan_session` (HttpOnly) and `dangan_csrf`, which the
page's script copies into the `X-CSRF-Token` header of every state-changing request. Every
refusal of a sign-in looks the same, so the answer reveals nothing about the account.

The SSO state cookie is SameSite=Lax, not Strict: the callback is a top-level navigation
from the provider's site, on which a Strict cookie would not be sent. It is good for one
attempt: every answer of the callback clears it.
"""

from __future__ import annotations

import inspect
import secrets
import threading
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dangan.access import services as access
from dangan.access.identity import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AccessDepsDep,
    CurrentPerson,
    session_token,
)
from dangan.access.oidc import OidcClient
from dangan.access.oidc_state import STATE_COOKIE, STATE_MAX_AGE, STATE_PATH
from dangan.access.ports import AccessDeps
from dangan.access.views import SignedIn
from dangan.adapters.http import client_of, problem_docs, runtime
from dangan.core.errors import DanganError
from dangan.settings import Settings
from dangan.usecase import Actor

router = APIRouter(tags=["auth 登录"])
_PERSON = problem_docs(s401="未登录 / not signed in", s403="CSRF 校验失败 / CSRF check failed")
_OIDC_CLIENT = "access.oidc_client"  # its key among the web process's caches
_oidc_lock = threading.Lock()
# What either leg of single sign-on may answer besides its own refusals.
_SSO_PROBLEMS = problem_docs(
    s404="未启用 / single sign-on is off",
    s502="身份提供方不可达 / provider unreachable",
    s503="配置有误 / misconfigured",
)


class SignInBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    totp_code: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$")


class TotpConfirmBody(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6,8}$")


def _settings(request: Request) -> Settings:
    return runtime(request).settings


def _visitor(request: Request) -> Actor:
    return Actor.visitor(*client_of(request))


def set_session_cookies(response: Response, settings: Settings, token: str, csrf: str) -> None:
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


def signed_in_body(signed: SignedIn, csrf: str) -> dict[str, Any]:
    return {"user": signed.user.as_dict(), "session_token": signed.token, "csrf_token": csrf}


@router.post(
    "/api/v1/auth/sign-in",
    summary="登录 / sign in with user name and password",
    responses=problem_docs(
        s400="请求体不是 JSON / the body is not JSON",
        s401="登录失败或需要动态验证码 / sign-in failed, or a one-time code is needed",
        s422="请求格式有误 / malformed request",
    ),
)
def sign_in(body: SignInBody, request: Request, response: Response, deps: AccessDepsDep) -> Any:
    signed = access.sign_in(deps, _visitor(request), body.username, body.password, body.totp_code)
    csrf = secrets.token_urlsafe(32)
    set_session_cookies(response, _settings(request), signed.token, csrf)
    response.headers["Cache-Control"] = "no-store"
    return signed_in_body(signed, csrf)


@router.post(
    "/api/v1/auth/sign-out",
    status_code=204,
    summary="退出登录 / sign out (ends the session)",
    responses=_PERSON,
)
def sign_out(person: CurrentPerson, request: Request, deps: AccessDepsDep) -> Response:
    token, _ = session_token(request)
    if token:
        access.sign_out(deps, person, token)
    response = Response(status_code=204)
    clear_session_cookies(response, _settings(request))
    return response


@router.get("/api/v1/me", summary="当前用户 / the signed-in person", responses=_PERSON)
def me(person: CurrentPerson, deps: AccessDepsDep) -> Any:
    return access.my_account(deps, person).as_dict()


@router.post(
    "/api/v1/me/totp", summary="开始绑定动态口令 / start TOTP enrolment", responses=_PERSON
)
def totp_enroll(person: CurrentPerson, response: Response, deps: AccessDepsDep) -> Any:
    uri = access.enroll_totp(deps, person)
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
def totp_confirm(person: CurrentPerson, body: TotpConfirmBody, deps: AccessDepsDep) -> Any:
    access.confirm_totp(deps, person, body.code)
    return {"totp_enabled": True}


# --- single sign-on ----------------------------------------------------------------------


def oidc_client(request: Request, deps: AccessDeps) -> OidcClient:
    """The process's relying party, made on first use (it caches discovery and keys)."""
    extras = runtime(request).extras
    with _oidc_lock:
        client = extras.get(_OIDC_CLIENT)
        if not isinstance(client, OidcClient) or client.deps is not deps:
            client = OidcClient(deps)
            extras[_OIDC_CLIENT] = client
    return client


def _clear_state(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        STATE_COOKIE,
        path=STATE_PATH,
        secure=settings.session.cookie_secure,
        httponly=True,
        samesite="lax",
    )


@router.get(
    "/api/v1/auth/oidc/login",
    status_code=302,
    summary="统一身份认证登录 / start single sign-on (redirects to the provider)",
    responses={
        302: {"description": "转到身份提供方 / to the identity provider"},
        **_SSO_PROBLEMS,
    },
)
def oidc_login(request: Request, deps: AccessDepsDep) -> Response:
    url, cookie = oidc_client(request, deps).begin()
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        cookie,
        max_age=STATE_MAX_AGE,
        path=STATE_PATH,
        secure=_settings(request).session.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _sso_sign_in(
    request: Request, deps: AccessDeps, code: str | None, state: str | None, error: str | None
) -> SignedIn:
    return access.sso_sign_in(
        deps,
        _visitor(request),
        oidc_client(request, deps),
        cookie=request.cookies.get(STATE_COOKIE),
        code=code,
        state=state,
        error=error,
    )


async def _problem(request: Request, exc: DanganError) -> Response:
    """The app's own problem answer for `exc` (the web layer maps kinds to statuses), so the
    route can still change it (clear the spent state)."""
    answer = request.app.exception_handlers[DanganError](request, exc)
    response: Response = await answer if inspect.isawaitable(answer) else answer
    return response


@router.get(
    "/api/v1/auth/oidc/callback",
    summary="统一身份认证回调 / single sign-on callback from the provider",
    responses={
        302: {"description": "已登录，转到首页 / signed in, to the home page"},
        **problem_docs(
            s400="登录状态无效或身份提供方报错 / bad state, or the provider's error",
            s401="令牌或授权码无效 / invalid token or code",
            s403="未关联用户 / no linked user",
        ),
        **_SSO_PROBLEMS,
    },
)
async def oidc_callback(
    request: Request,
    deps: AccessDepsDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    settings = _settings(request)
    try:
        # Database and provider calls block: off the event loop, as a sync route would be.
        signed = await run_in_threadpool(_sso_sign_in, request, deps, code, state, error)
    except DanganError as exc:
        failed = await _problem(request, exc)
        _clear_state(failed, settings)  # a state is good for one attempt only
        return failed
    csrf = secrets.token_urlsafe(32)
    response: Response
    if "application/json" in request.headers.get("accept", ""):
        response = JSONResponse(signed_in_body(signed, csrf))
    else:
        response = RedirectResponse("/", status_code=302)
    set_session_cookies(response, settings, signed.token, csrf)
    _clear_state(response, settings)
    response.headers["Cache-Control"] = "no-store"
    return response


routers = (router,)
