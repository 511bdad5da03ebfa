"""JSON nested deeper than 64 levels is a 400 `json_too_deep` over real HTTP, before any
parser recurses: request bodies of every JSON endpoint and the metadata part of a multipart
submission. The connection stays usable and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dangan.bootstrap import Container
from dangan.core.json_depth import MAX_JSON_DEPTH
from dangan.web.app import create_app
from tests.api.conftest import FAST, bearer, body, spool_entries
from tests.api.live_server import LiveServer, serve_app
from tests.archive_kit import counts
from tests.people_kit import PW, admins

DEPTHS = (1000, 100_000)
# Every route that takes a JSON body, with the methods it answers.
JSON_ROUTES = (
    ("POST", "/api/v1/auth/sign-in"),
    ("POST", "/api/v1/me/totp/confirm"),
    ("PATCH", "/api/v1/records/Z109-WS%C2%B72024-D30-BGS-0001"),
)
JSON = {"content-type": "application/json"}


@pytest.fixture
def server(instance: Container) -> Iterator[LiveServer]:
    with serve_app(create_app(instance, FAST)) as live:
        yield live


def lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def chunks(data: bytes, size: int = 997) -> Iterator[bytes]:
    """The body sent chunked, split mid-token, so the scan runs across chunk boundaries."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def too_deep(r: httpx.Response, field: str) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    assert problem["code"] == "json_too_deep"
    assert "64" in problem["zh"]
    assert "64" in problem["en"]
    assert [(p["field"], p["code"]) for p in problem["problems"]] == [(field, "json_too_deep")]
    return problem


def test_deep_json_bodies_are_refused(server: LiveServer, instance: Container) -> None:
    admins(instance)
    before = counts(instance)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for method, path in JSON_ROUTES:
            for depth in DEPTHS:
                for data in (lists(depth), objects(depth)):
                    r = client.request(method, path, content=data, headers=JSON)
                    assert too_deep(r, "body")["instance"].startswith("/api/v1/")
                r = client.request(method, path, content=chunks(lists(depth)), headers=JSON)
                too_deep(r, "body")
        # Other encodings json.loads takes, and a structured-syntax media type.
        deep = ("[" * 1000 + "]" * 1000).encode("utf-16")
        too_deep(client.post(JSON_ROUTES[0][1], content=deep, headers=JSON), "body")
        plus = {"content-type": "application/merge-patch+json"}
        too_deep(client.patch(JSON_ROUTES[2][1], content=lists(1000), headers=plus), "body")
        # Brackets inside strings do not count; at the limit the route decides as before.
        quoted = json.dumps({"username": "[" * 1000, "password": "{" * 1000}).encode()
        assert client.post(JSON_ROUTES[0][1], content=quoted, headers=JSON).status_code == 422
        at_limit = client.post(JSON_ROUTES[0][1], content=lists(MAX_JSON_DEPTH), headers=JSON)
        assert at_limit.status_code == 422
        assert at_limit.json()["code"] == "invalid_request"
        # The same connection still works after every refusal.
        ok = client.post(
            JSON_ROUTES[0][1], json={"username": "sysadmin", "password": PW}, headers=JSON
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["user"]["username"] == "sysadmin"
    assert counts(instance)[0] == before[0]


def test_deep_metadata_json_of_a_submission_is_refused(
    server: LiveServer, instance: Container, token: str
) -> None:
    before = counts(instance)
    with httpx.Client(base_url=server.url, timeout=60, headers=bearer(token)) as client:
        for depth in DEPTHS:
            for deep in (lists(depth), objects(depth)):
                envelope = b'{"source_id": "OA-1", "metadata": ' + deep + b"}"
                sent = body()
                sent["data"] = {"metadata": envelope.decode()}
                too_deep(client.post("/api/v1/submissions", **sent), "metadata")
        # Deep inside an element's value, where validation would walk it.
        nested: Any = "示范省应急管理厅"
        for _ in range(500):
            nested = [nested]
        sent = body()
        envelope_data = json.loads(sent["data"]["metadata"])
        envelope_data["metadata"]["author"] = nested
        sent["data"] = {"metadata": json.dumps(envelope_data, ensure_ascii=False)}
        too_deep(client.post("/api/v1/submissions", **sent), "metadata")
        assert counts(instance) == before
        assert spool_entries(instance) == []
        ok = client.post("/api/v1/submissions", **body())
        assert ok.status_code == 201, ok.text
        assert ok.json()["status"] == "archived"
