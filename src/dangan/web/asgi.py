"""ASGI entry for uvicorn with several workers: `uvicorn --factory dangan.web.asgi:make_app`.

Each worker process builds its own container from settings (`DANGAN_*`, `dangan.toml`).
`dangan.web.asgi:app` works too; it is built on first access, not at import.
"""

from __future__ import annotations

from fastapi import FastAPI


def make_app() -> FastAPI:
    from dangan.bootstrap import open_container
    from dangan.web.app import create_app

    # `dangan serve` already ran recovery once; workers must not race each other on it.
    return create_app(open_container(recover=False))


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        return make_app()
    raise AttributeError(name)
