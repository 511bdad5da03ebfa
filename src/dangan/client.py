"""A small Python client for the Dangan archiving API, for business systems' connectors.

    with DanganClient("http://archive.example:8000", token) as api:
        receipt = api.submit({"title": "…", "date": "2024-03-05", …}, [Path("正文.pdf")],
                             source_id="OA-2024-001")
        print(receipt["archival_code"])

Errors arrive as `DanganApiError` carrying the problem document (code, zh, en, problems).
Only depends on httpx, so it can be vendored into a connector without the rest of Dangan.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

TRANSIENT = {429, 500, 502, 503, 504}


class DanganApiError(Exception):
    """The API answered with a problem (RFC 9457), or could not be reached (status 0)."""

    def __init__(self, problem: dict[str, Any], retry_after: float | None = None) -> None:
        self.problem = problem
        self.status: int = int(problem.get("status") or 0)
        self.code: str = str(problem.get("code") or "unknown")
        self.zh: str = str(problem.get("zh") or "")
        self.en: str = str(problem.get("en") or problem.get("detail") or "")
        self.problems: list[dict[str, Any]] = list(problem.get("problems") or [])
        self.retry_after = retry_after
        super().__init__(f"[{self.status} {self.code}] {self.zh} / {self.en}")

    @property
    def transient(self) -> bool:
        """Worth retrying later with the same request (and the same Idempotency-Key)."""
        return self.status == 0 or self.status in TRANSIENT


class DanganClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> DanganClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def submit(
        self,
        metadata: dict[str, Any],
        files: list[Path],
        source_id: str,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> dict[str, Any]:
        """Archive one record: 201 → the receipt; 202 → {"status": "processing", …}."""
        body = {**metadata, "source_id": source_id}
        if callback_url:
            body["callback_url"] = callback_url
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        with ExitStack() as stack:
            parts: list[tuple[str, Any]] = [
                ("metadata", (None, json.dumps(body, ensure_ascii=False), "application/json"))
            ]
            for path in files:  # file objects: httpx streams them instead of reading whole
                fh = stack.enter_context(path.open("rb"))
                parts.append(("files", (path.name, fh, "application/octet-stream")))
            return self._call("POST", "/api/v1/submissions", files=parts, headers=headers)

    def status(self, record_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/submissions/{record_id}")

    def wait(self, record_id: str, timeout: float = 600.0, every: float = 2.0) -> dict[str, Any]:
        """Poll a 202 submission until it is no longer processing."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.status(record_id)
            if answer.get("status") != "processing" or time.monotonic() > deadline:
                return answer
            time.sleep(every)

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DanganApiError(
                {"status": 0, "code": "unreachable", "zh": "无法连接档案系统", "en": str(exc)}
            ) from exc
        if response.is_success:
            data: dict[str, Any] = response.json()
            return data
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        problem.setdefault("status", response.status_code)
        retry = response.headers.get("Retry-After")
        raise DanganApiError(problem, float(retry) if retry and retry.isdigit() else None)
