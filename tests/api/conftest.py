"""The API on a real instance (SQLite and PostgreSQL), driven through FastAPI's TestClient."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dangan.adapters.http import ApiOptions
from dangan.bootstrap import Container
from dangan.web.app import create_app
from tests.archive_kit import NOTICE, new_instance
from tests.people_kit import issue_token

with warnings.catch_warnings():
    # Starlette 1.x asks for `httpx2` behind its TestClient; httpx is what the project pins.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FAST = ApiOptions(callback_backoff_seconds=0.05, callback_attempts=3)


@pytest.fixture
def instance(tmp_path: Path, db_url: str) -> Iterator[Container]:
    c = new_instance(tmp_path / "inst", db_url)
    yield c
    c.close()


@pytest.fixture
def make_api() -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def make(c: Container, options: ApiOptions = FAST, **kw: Any) -> TestClient:
        client = TestClient(create_app(c, options), **kw)
        client.__enter__()  # run the lifespan, so background pools are joined on exit
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def api(instance: Container, make_api: Callable[..., TestClient]) -> TestClient:
    return make_api(instance)


@pytest.fixture
def token(instance: Container) -> str:
    plaintext, _ = issue_token(instance, "oa", ["submit", "read_catalogue"], rate=1000)
    return plaintext


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def meta(source_id: str = "OA-1", **extra: Any) -> dict[str, Any]:
    return {"metadata": {**NOTICE}, "source_id": source_id, **extra}


def body(
    source_id: str = "OA-1",
    text: str = "各有关单位：请认真开展检查。",
    name: str = "正文.txt",
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments for `client.post` carrying one notice as multipart."""
    return {
        "data": {"metadata": json.dumps(meta(source_id, **extra), ensure_ascii=False)},
        "files": [("files", (name, text.encode("utf-8"), "text/plain"))],
    }


def spool_entries(c: Container) -> list[Path]:
    root = c.settings.resolved_data_dir / "spool"
    return list(root.iterdir()) if root.exists() else []
