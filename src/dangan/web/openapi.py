"""The OpenAPI document, made to say what the API really does.

FastAPI documents validation errors as `application/json` in its own shape, while every error
here is RFC 9457 `application/problem+json` with zh/en text. This rewrites every 4xx/5xx
response to the Problem schema, adds a `default` problem response (any other error status),
and declares how each operation authenticates: system tokens, people's sessions (bearer or
cookie), or nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from dangan.adapters.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code", "zh", "en", "problems"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable error code"},
        "zh": {"type": "string", "description": "中文说明"},
        "en": {"type": "string", "description": "English message"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "zh": {"type": "string"},
                    "en": {"type": "string"},
                },
            },
        },
        "instance": {"type": ["string", "null"]},
    },
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
SECURITY_SCHEMES = {
    "systemToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "业务系统令牌 / system token `dgn_<id>_<secret>`",
    },
    "sessionBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "登录会话令牌 / a person's session token from sign-in",
    },
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "dangan_session"},
}
PUBLIC = ("/health", "/ready", "/api/v1/auth/sign-in", "/api/v1/auth/oidc/")


def _security_for(path: str) -> list[dict[str, list[str]]]:
    if path.startswith(PUBLIC):
        return []
    if path.startswith("/api/v1/submissions"):
        return [{"systemToken": []}]
    people: list[dict[str, list[str]]] = [{"sessionBearer": []}, {"sessionCookie": []}]
    if path.startswith(("/api/v1/search", "/api/v1/ledger")):
        return [{"systemToken": []}, *people]
    return people


def _fix_operation(path: str, op: dict[str, Any]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    for status, answer in responses.items():
        if status.isdigit() and int(status) >= 400:
            answer["content"] = dict(_PROBLEM_CONTENT)
    responses["default"] = {
        "description": "错误 / error (RFC 9457 problem, zh and en)",
        "content": dict(_PROBLEM_CONTENT),
    }
    op["security"] = _security_for(path)


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = spec.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = SECURITY_SCHEMES
        for name in ("HTTPValidationError", "ValidationError"):
            components["schemas"].pop(name, None)
        for path, ops in spec.get("paths", {}).items():
            for op in ops.values():
                _fix_operation(path, op)
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]
