"""Use cases for business systems: track API submissions, call back, report status. (Their
tokens moved to `dangan.access`.)"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dangan.bootstrap import Container
from dangan.core.clock import utcnow
from dangan.core.errors import ConflictError, NotFoundError
from dangan.systems.domain import sign_notice
from dangan.systems.models import ApiSubmission

log = logging.getLogger("dangan.systems")
STATUS_PROCESSING = "processing"
STATUS_REJECTED = "rejected"


# --- submissions received over the API -----------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """What the API knows of a submission beyond the catalogue: progress and the answer."""

    id: str
    record_id: str
    status: str
    http_status: int | None
    response: dict[str, Any] | None
    request_digest: str
    source_id: str


def _tracked(row: ApiSubmission) -> Tracked:
    return Tracked(
        id=row.id,
        record_id=row.record_id,
        status=row.status,
        http_status=row.http_status,
        response=json.loads(row.response_json) if row.response_json else None,
        request_digest=row.request_digest,
        source_id=row.source_id,
    )


def begin_tracking(
    c: Container,
    *,
    system: str,
    source_id: str,
    record_id: str,
    idempotency_key: str | None,
    request_digest: str,
) -> tuple[Tracked, bool]:
    """Claim an Idempotency-Key (or just open a row); returns (row, created).

    created=False: the key was used before — the caller replays the stored answer when the
    digest matches. A different digest raises ConflictError(idempotency_key_reused).
    """
    now = utcnow()
    row = ApiSubmission(
        id=str(uuid.uuid4()),
        system=system,
        source_id=source_id,
        record_id=record_id,
        idempotency_key=idempotency_key,
        request_digest=request_digest,
        status=STATUS_PROCESSING,
        http_status=None,
        response_json=None,
        created_at=now,
        updated_at=now,
    )
    try:
        with c.sessions.begin() as session:
            session.add(row)
        return _tracked(row), True
    except IntegrityError:
        if idempotency_key is None:
            raise
    with c.sessions() as session:
        found = session.scalars(
            select(ApiSubmission).where(
                ApiSubmission.system == system, ApiSubmission.idempotency_key == idempotency_key
            )
        ).one()
        if found.request_digest != request_digest:
            raise ConflictError(
                code="idempotency_key_reused",
                zh="该 Idempotency-Key 已用于另一份不同的请求",
                en="this Idempotency-Key was already used for a different request",
            )
        return _tracked(found), False


def finish_tracking(
    c: Container, tracking_id: str, status: str, http_status: int, response: dict[str, Any]
) -> None:
    with c.sessions.begin() as session:
        row = session.get(ApiSubmission, tracking_id)
        if row is None:
            return
        row.status = status
        row.http_status = http_status
        row.response_json = json.dumps(response, ensure_ascii=False)
        row.updated_at = utcnow()


def forget_tracking(c: Container, tracking_id: str) -> None:
    """Drop a claim whose request never reached archiving (e.g. a transport error)."""
    with c.sessions.begin() as session:
        row = session.get(ApiSubmission, tracking_id)
        if row is not None:
            session.delete(row)


def latest_tracking(session: Session, system: str, record_id: str) -> Tracked | None:
    row = session.scalars(
        select(ApiSubmission)
        .where(ApiSubmission.system == system, ApiSubmission.record_id == record_id)
        .order_by(ApiSubmission.created_at.desc())
        .limit(1)
    ).one_or_none()
    return _tracked(row) if row else None


# --- callbacks to the submitting system ----------------------------------------------------


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

    The HMAC key is the submitting token itself (the system holds it; Dangan keeps it only in
    memory for this delivery). Returns whether a 2xx answer came back. Never raises.
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


def submission_status(c: Container, system: str, record_id: str) -> dict[str, Any]:
    """Where a system's submission stands: processing, archived, pending_review, rejected…

    Another system's records are reported as not found, so ids cannot be probed.
    """
    from dangan.records.models import Record
    from dangan.records.services import receipt_of

    with c.sessions() as session:
        rec = session.get(Record, record_id)
        if rec is not None and rec.source_system == system:
            receipt = json.loads(rec.receipt_json) if rec.receipt_json else receipt_of(session, rec)
            return {"record_id": rec.id, "status": rec.status, "receipt": receipt, "problem": None}
        tracked = latest_tracking(session, system, record_id)
    if tracked is None:
        raise NotFoundError(
            code="submission_not_found",
            zh=f"找不到该提交：{record_id}",
            en=f"no such submission: {record_id}",
        )
    failed = tracked.http_status is not None and tracked.http_status >= 400
    return {
        "record_id": record_id,
        "status": tracked.status,
        "receipt": None if failed else tracked.response,
        "problem": tracked.response if failed else None,
    }
