"""Every error is problem+json with zh/en; health, readiness and the offline API docs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dangan.bootstrap import Container
from dangan.web.app import create_app
from tests.api.conftest import FAST, TestClient, bearer

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "zh", "en", "problems", "instance"}


def _problem(r: object, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = r.json()  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_KEYS
    assert body["code"] == code
    assert body["status"] == status
    assert body["zh"]
    assert body["en"]
    return body


def test_unknown_route_is_a_problem(api: TestClient) -> None:
    body = _problem(api.get("/api/v1/nothing"), 404, "not_found")
    assert body["instance"] == "/api/v1/nothing"
    assert body["type"] == "urn:dangan:problem:not_found"


def test_wrong_method_is_a_problem(api: TestClient) -> None:
    _problem(api.get("/api/v1/submissions"), 405, "method_not_allowed")


def test_request_validation_is_a_problem(api: TestClient, token: str) -> None:
    headers = {**bearer(token), "Idempotency-Key": "k" * 300}
    body = _problem(api.post("/api/v1/submissions", headers=headers), 422, "invalid_request")
    assert body["problems"]


def test_unexpected_errors_leak_nothing(
    instance: Container, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(instance, FAST)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail at /etc/shadow")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    body = _problem(r, 500, "internal_error")
    assert "secret" not in r.text
    assert "Traceback" not in r.text
    assert body["problems"] == []
    assert "secret detail" in caplog.text


def test_health_and_ready(api: TestClient) -> None:
    assert api.get("/health").json() == {"status": "ok"}
    r = api.get("/ready")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert set(checks) >= {"database", "storage_root_1", "storage_root_2", "spool", "keys"}
    assert set(checks.values()) == {"ok"}


def test_not_ready_without_keys(
    instance: Container, make_api: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api(instance)

    def broken(_data: bytes) -> bytes:
        raise RuntimeError("no key")

    monkeypatch.setattr(instance.suite, "sign", broken)
    body = _problem(api.get("/ready"), 503, "not_ready")
    assert body["checks"]["keys"] == "failed"  # type: ignore[index]


def test_openapi_and_offline_docs(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    assert "/api/v1/submissions" in spec["paths"]
    assert "/api/v1/submissions/{record_id}" in spec["paths"]
    docs = api.get("/api/docs")
    assert docs.status_code == 200
    html = docs.text.lower()
    assert "/api/v1/submissions" in html
    for external in ("http://", "https://", "//cdn", "<script", "unpkg", "jsdelivr"):
        assert external not in html
    assert api.get("/docs").status_code == 404
    assert api.get("/redoc").status_code == 404
