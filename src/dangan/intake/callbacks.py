"""Telling a business system what became of its submission: a JSON notice POSTed to its
callback URL, signed with HMAC-SHA256 under the system's own token, retried with backoff.

The receiver checks `X-Dangan-Signature` with `verify_notice` (or the same HMAC in its own
language): only the holder of the token could have produced it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dangan.core.clock import iso, utcnow
from dangan.core.errors import DanganError

log = logging.getLogger("dangan.intake")


@dataclass(frozen=True)
class Callback:
    """Where to send the notice, with what key, and how the transport shows an error."""

    url: str
    key: str  # the submitting token itself; kept in memory only for this delivery
    problem: Callable[[DanganError], dict[str, Any]]
    attempts: int = 5
    backoff: float = 1.0


def event_of(status: str) -> str:
    return {"archived": "archived", "pending_review": "queued"}.get(status, "rejected")


def notice(
    status: str, system: str, source_id: str, record_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    event = event_of(status)
    return {
        "event": event,
        "system": system,
        "source_id": source_id,
        "record_id": record_id,
        "at": iso(utcnow()),
        ("problem" if event == "rejected" else "receipt"): body,
    }


def sign_notice(key: str, body: bytes) -> str:
    """The X-Dangan-Signature value: HMAC-SHA256 over the exact body bytes."""
    return "sha256=" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_notice(key: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): constant-time check of X-Dangan-Signature."""
    return hmac.compare_digest(sign_notice(key, body), signature)


def deliver_notice(
    url: str,
    notice: dict[str, Any],
    key: str,
    *,
    attempts: int = 5,
    backoff: float = 1.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST a signed JSON notice; retry on network errors and non-2xx, backing off 1, 2, 4…×.

    Returns whether a 2xx answer came back. Never raises.
    """
    import httpx

    body = json.dumps(notice, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Dangan-Signature": sign_notice(key, body),
        "X-Dangan-Event": str(notice.get("event", "")),
        "X-Dangan-Delivery": str(uuid.uuid4()),
    }
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for attempt in range(attempts):
            try:
                answer = client.post(url, content=body, headers=headers)
                if 200 <= answer.status_code < 300:
                    return True
                log.warning("callback %s answered %s", url, answer.status_code)
            except httpx.HTTPError as exc:
                log.warning("callback %s failed: %s", url, exc)
            if attempt + 1 < attempts:
                sleep(backoff * 2**attempt)
    log.error("callback %s given up after %d attempts", url, attempts)
    return False
