"""Single sign-on endpoints: `/api/v1/auth/oidc/login` and `/api/v1/auth/oidc/callback`.

The state cookie is SameSite=Lax, not Strict: the callback is a top-level navigation from
the provider's site, on which a Strict cookie would not be sent.
"""

from __future__ import annotations

import secrets
import threading

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dangan.access.oidc import STATE_COOKIE, STATE_MAX_AGE, STATE_PATH, OidcClient
from dangan.adapters.problems import error_body, problem_response
from dangan.bootstrap import Container
from dangan.core.errors import DanganError
from dangan.web.auth import client_of, problem_docs, set_cookies_with, signed_in_body
from dangan.web.shim import ContainerDep

router = APIRouter(tags=["auth 登录"])
_lock = threading.Lock()


def oidc_client(request: Request, c: Container) -> OidcClient:
    """The process's relying party, made on first use (it caches discovery and keys)."""
    state = request.app.state
    with _lock:
        client: OidcClient | None = getattr(state, "oidc_client", None)
        if client is None or client.c is not c:
            client = OidcClient(c)
            state.oidc_client = client
    return client


def _clear_state(response: Response, c: Container) -> None:
    response.delete_cookie(
        STATE_COOKIE,
        path=STATE_PATH,
        secure=c.settings.session.cookie_secure,
        httponly=True,
        samesite="lax",
    )


@router.get(
    "/api/v1/auth/oidc/login",
    status_code=302,
    summary="统一身份认证登录 / start single sign-on (redirects to the provider)",
    responses={
        302: {"description": "转到身份提供方 / to the identity provider"},
        **problem_docs(
            s404="未启用 / single sign-on is off",
            s502="身份提供方不可达 / provider unreachable",
            s503="配置有误 / misconfigured",
        ),
    },
)
def oidc_login(request: Request, c: ContainerDep) -> Response:
    url, cookie = oidc_client(request, c).begin()
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        cookie,
        max_age=STATE_MAX_AGE,
        path=STATE_PATH,
        secure=c.settings.session.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
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
            s404="未启用 / single sign-on is off",
            s502="身份提供方不可达 / provider unreachable",
            s503="配置有误 / misconfigured",
        ),
    },
)
def oidc_callback(
    request: Request,
    c: ContainerDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    ip, ua = client_of(request)
    try:
        token, user = oidc_client(request, c).finish(
            cookie=request.cookies.get(STATE_COOKIE),
            code=code,
            state=state,
            error=error,
            ip=ip,
            user_agent=ua,
        )
    except DanganError as exc:
        status, body = error_body(exc, request.url.path)
        failed = problem_response(status, body)
        _clear_state(failed, c)  # a state is good for one attempt only
        return failed
    csrf = secrets.token_urlsafe(32)
    response: Response
    if "application/json" in request.headers.get("accept", ""):
        response = JSONResponse(signed_in_body(c, user.id, token, csrf))
    else:
        response = RedirectResponse("/", status_code=302)
    set_cookies_with(response, c.settings, token, csrf)
    _clear_state(response, c)
    response.headers["Cache-Control"] = "no-store"
    return response
