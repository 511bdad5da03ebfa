"""`dangan serve`: run the HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from dangan.adapters.cli import run


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option(help="监听地址 / listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(help="进程数 / worker processes", envvar="DANGAN_WEB_WORKERS", min=1),
    ] = 1,
) -> None:
    """运行 HTTP 接口 / serve the HTTP API."""
    import uvicorn

    from dangan.bootstrap import open_container

    # Fail with a clear message before forking workers; finish interrupted work once.
    run(lambda: open_container(recover=True).close())
    uvicorn.run(
        "dangan.web.asgi:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
    )
