"""Every error leaves the API as `application/problem+json` (RFC 9457) in zh-CN and en:
the app's error handlers, using the one mapping of error kinds to statuses
(`dangan.adapters.problems`). A 500 says nothing about the cause to the client; the
traceback goes to the log only."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dangan.adapters.problems import (
    HTTP_TEXTS,
    error_body,
    problem_body,
    problem_response,
    status_for,
    status_title,
)
from dangan.core.errors import DanganError, Problem, RateLimitedError

__all__ = ["error_body", "install_error_handlers", "problem_body", "status_for"]

log = logging.getLogger("dangan.web")


async def _dangan_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DanganError)
    status, body = error_body(exc, request.url.path)
    headers = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="dangan"'
    if status >= 500:
        log.error("request %s failed: %s", request.url.path, exc)
    return problem_response(status, body, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        Problem(
            ".".join(str(p) for p in e.get("loc", ())),
            str(e.get("type", "invalid")),
            f"请求参数有误：{e.get('msg', '')}",
            str(e.get("msg", "invalid value")),
        )
        for e in exc.errors()
    ]
    body = problem_body(
        422,
        "invalid_request",
        f"请求有 {len(problems)} 处问题",
        f"the request has {len(problems)} problem(s)",
        problems=problems,
        instance=request.url.path,
    )
    return problem_response(422, body)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, zh, en = HTTP_TEXTS.get(
        exc.status_code,
        (f"http_{exc.status_code}", "请求失败", status_title(exc.status_code).lower()),
    )
    body = problem_body(exc.status_code, code, zh, en, instance=request.url.path)
    return problem_response(exc.status_code, body, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    code, zh, en = HTTP_TEXTS[500]
    return problem_response(500, problem_body(500, code, zh, en, instance=request.url.path))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DanganError, _dangan_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
