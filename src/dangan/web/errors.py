"""Every error leaves the API as `application/problem+json` (RFC 9457) in zh-CN and en.

This is the only place that knows HTTP statuses: each kind of `dangan.core.errors` maps to
one status here.

    {"type": "urn:dangan:problem:<code>", "title": "...", "status": 422, "detail": "...",
     "code": "<code>", "zh": "...", "en": "...", "problems": [...], "instance": "/api/..."}

`type` is a URN rather than a URL so nothing points at a host an offline site cannot reach.
A 500 says nothing about the cause to the client; the traceback goes to the log only.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dangan.adapters.http import PROBLEM_JSON
from dangan.core.errors import (
    ConfigurationError,
    ConflictError,
    DanganError,
    IntegrityFailure,
    InvalidInputError,
    MalformedInputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    RateLimitedError,
    TooLargeError,
    UnauthenticatedError,
    UnsupportedFormatError,
    UpstreamError,
)

__all__ = ["install_error_handlers", "problem_body", "status_for"]

log = logging.getLogger("dangan.web")

STATUS_BY_KIND: list[tuple[type[DanganError], int]] = [
    (InvalidInputError, 422),
    (MalformedInputError, 400),
    (TooLargeError, 413),
    (UnsupportedFormatError, 415),
    (NotFoundError, 404),
    (ConflictError, 409),
    (UnauthenticatedError, 401),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (IntegrityFailure, 500),
    (UpstreamError, 502),
    (ConfigurationError, 503),
]

# Generic texts for HTTP errors raised by routing (no DanganError behind them).
_HTTP_TEXTS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求格式有误", "the request is malformed"),
    401: ("unauthorized", "需要身份认证", "authentication is required"),
    403: ("forbidden", "无权访问", "access is forbidden"),
    404: ("not_found", "找不到该资源", "no such resource"),
    405: ("method_not_allowed", "不支持该请求方法", "the method is not allowed here"),
    413: ("payload_too_large", "请求体过大", "the request body is too large"),
    415: ("unsupported_media_type", "不支持该内容类型", "the content type is not supported"),
    500: ("internal_error", "服务器内部错误，已记录", "internal server error; it was logged"),
}


def status_for(exc: DanganError) -> int:
    for kind, status in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return 400


def problem_body(
    status: int,
    code: str,
    zh: str,
    en: str,
    *,
    problems: list[Problem] | list[dict[str, str]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    return {
        "type": f"urn:dangan:problem:{code}",
        "title": _title(status),
        "status": status,
        "detail": en,
        "code": code,
        "zh": zh,
        "en": en,
        "problems": [p.as_dict() if isinstance(p, Problem) else p for p in (problems or [])],
        "instance": instance,
    }


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(exc: DanganError, instance: str | None = None) -> tuple[int, dict[str, Any]]:
    status = status_for(exc)
    return status, problem_body(
        status, exc.code, exc.zh, exc.en, problems=exc.problems, instance=instance
    )


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


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
    code, zh, en = _HTTP_TEXTS.get(
        exc.status_code, (f"http_{exc.status_code}", "请求失败", _title(exc.status_code).lower())
    )
    body = problem_body(exc.status_code, code, zh, en, instance=request.url.path)
    return problem_response(exc.status_code, body, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    code, zh, en = _HTTP_TEXTS[500]
    return problem_response(500, problem_body(500, code, zh, en, instance=request.url.path))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DanganError, _dangan_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
