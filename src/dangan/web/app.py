"""`create_app(container)`: the FastAPI application for business systems.

The API description is served at `/api/openapi.json`. FastAPI's Swagger UI and ReDoc pages
load their scripts from a CDN, which an air-gapped government network cannot reach, and no
packaged copy of those assets is a dependency; so `/api/docs` is a self-contained HTML page
rendered on the server from the same OpenAPI document (no scripts, no external URLs).
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from dangan.access import api as access_api
from dangan.adapters.http import ApiOptions, WebRuntime
from dangan.audit import api as audit_api
from dangan.bootstrap import Container
from dangan.intake import api as intake_api
from dangan.intake.spool import sweep_stale
from dangan.records import api as records_api
from dangan.web import health
from dangan.web.errors import install_error_handlers
from dangan.web.json_depth import JsonDepthLimit
from dangan.web.openapi import install_openapi

DESCRIPTION = (
    "业务系统归档接口。错误均为 application/problem+json（RFC 9457），含中英文说明。\n\n"
    "Archiving API for business systems. Every error is application/problem+json "
    "(RFC 9457) with zh-CN and en messages. Authenticate with `Authorization: Bearer dgn_…`."
)
# Every feature's routes, in the order they appear in the API description.
ROUTERS = (
    health.router,
    intake_api.router,
    records_api.router,
    audit_api.router,
    *access_api.routers,
)


def create_app(container: Container, options: ApiOptions | None = None) -> FastAPI:
    settings = container.settings
    runtime = WebRuntime(container, settings, options or ApiOptions.of(settings.web))
    sweep_stale(intake_api.spool_root(runtime))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.close()

    app = FastAPI(
        title="Dangan 档案 API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(JsonDepthLimit)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))

    return app


def render_docs(spec: dict[str, Any]) -> str:
    """A plain, offline page listing every operation of the OpenAPI document."""
    e = html.escape
    info = spec.get("info", {})
    rows = []
    for path, ops in sorted(spec.get("paths", {}).items()):
        for method, op in ops.items():
            answers = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                f"<tr><td><code>{e(method.upper())}</code></td><td><code>{e(path)}</code></td>"
                f"<td>{e(op.get('summary', ''))}</td><td>{e(answers)}</td></tr>"
            )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{e(info.get('title', 'API'))}</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}</style></head><body>"
        f"<h1>{e(info.get('title', 'API'))}</h1>"
        f"<p>{e(info.get('description', ''))}</p>"
        "<p>OpenAPI: <a href='/api/openapi.json'>/api/openapi.json</a></p>"
        "<table><tr><th>方法 method</th><th>路径 path</th><th>说明 summary</th>"
        "<th>状态码 status</th></tr>" + "".join(rows) + "</table></body></html>"
    )
