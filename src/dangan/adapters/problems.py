"""HTTP statuses and RFC 9457 problem bodies for the error kinds of `dangan.core.errors`.

The only place that maps errors to HTTP: `dangan.web` installs it as the app's error
handler, and feature routes use it where an answer is stored and replayed (idempotency keys)
or sent elsewhere (callbacks).

    {"type": "urn:dangan:problem:<code>", "title": "...", "status": 422, "detail": "...",
     "code": "<code>", "zh": "...", "en": "...", "problems": [...], "instance": "/api/..."}

`type` is a URN rather than a URL so nothing points at a host an offline site cannot reach.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

from dangan.core.errors import (
    ConfigurationError,
    ConflictError,
    DanganError,
    IntegrityFailure,
    InternalError,
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

PROBLEM_JSON = "application/problem+json"

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
    (InternalError, 500),
    (UpstreamError, 502),
    (ConfigurationError, 503),
]

# Generic texts for HTTP errors raised by routing (no DanganError behind them).
HTTP_TEXTS: dict[int, tuple[str, str, str]] = {
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
        "title": status_title(status),
        "status": status,
        "detail": en,
        "code": code,
        "zh": zh,
        "en": en,
        "problems": [p.as_dict() if isinstance(p, Problem) else p for p in (problems or [])],
        "instance": instance,
    }


def status_title(status: int) -> str:
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
