"""Liveness (`/health`: the process answers) and readiness (`/ready`: it can do its work)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dangan.adapters.http import runtime
from dangan.adapters.problems import problem_body, problem_response
from dangan.bootstrap import Container
from dangan.core.errors import Problem
from dangan.intake.api import spool_root

router = APIRouter(tags=["health"])


@router.get("/health", summary="存活检查 / liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _writable(path: Path) -> None:
    probe = path / f".ready-{uuid.uuid4().hex}"
    probe.write_bytes(b"ok")
    probe.unlink()


@router.get(
    "/ready",
    summary="就绪检查 / readiness: database, storage roots, keys",
    responses={503: {"description": "not ready (problem+json)"}},
)
def ready(request: Request) -> Any:
    rt = runtime(request)
    c: Container = rt.deps  # type: ignore[assignment]  # the app factory's container
    checks: dict[str, str] = {}
    problems: list[Problem] = []

    def check(name: str, zh: str, fn: Any) -> None:
        try:
            fn()
            checks[name] = "ok"
        except Exception as exc:  # a probe reports; it must not raise
            checks[name] = "failed"
            problems.append(Problem(name, "check_failed", f"{zh}不可用", f"{name}: {exc}"))

    def db() -> None:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def keys() -> None:
        c.suite.sign(b"ready")

    check("database", "数据库", db)
    for i, path in enumerate(c.settings.resolved_storage_roots):
        check(f"storage_root_{i + 1}", f"存储根 {i + 1} ", lambda p=path: _writable(p))
    check("spool", "上传暂存目录", lambda: _writable(spool_root(rt)))
    check("keys", "签名密钥", keys)
    if problems:
        body = problem_body(
            503,
            "not_ready",
            "服务尚未就绪",
            "the service is not ready",
            problems=problems,
            instance="/ready",
        )
        body["checks"] = checks
        return problem_response(503, body)
    return JSONResponse({"status": "ready", "checks": checks})
