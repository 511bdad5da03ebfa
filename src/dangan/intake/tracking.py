"""Tracking a submission for its Idempotency-Key and its progress in the background.

Claiming a key is one INSERT under a unique (system, key) constraint, so two racing requests
with one key cannot both archive; the loser replays the winner's answer (same body) or is
refused (`idempotency_key_reused`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dangan.core.clock import utcnow
from dangan.core.errors import ConflictError
from dangan.intake.models import ApiSubmission

PROCESSING = "processing"
REJECTED = "rejected"
FAILED = "failed"


@dataclass(frozen=True)
class Tracked:
    """What intake knows of a submission beyond the catalogue: progress and the outcome."""

    id: str
    record_id: str
    status: str
    response: dict[str, Any] | None  # the receipt, or the error as stored data
    request_digest: str
    source_id: str

    @property
    def failed(self) -> bool:
        return self.status in (REJECTED, FAILED)


def _tracked(row: ApiSubmission) -> Tracked:
    return Tracked(
        id=row.id,
        record_id=row.record_id,
        status=row.status,
        response=json.loads(row.response_json) if row.response_json else None,
        request_digest=row.request_digest,
        source_id=row.source_id,
    )


def begin(  # noqa: PLR0917 - the claim's fields
    sessions: sessionmaker[Session],
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
        status=PROCESSING,
        http_status=None,
        response_json=None,
        created_at=now,
        updated_at=now,
    )
    try:
        with sessions.begin() as session:
            session.add(row)
        return _tracked(row), True
    except IntegrityError:
        if idempotency_key is None:
            raise
    with sessions() as session:
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


def finish(
    sessions: sessionmaker[Session], tracking_id: str, status: str, response: dict[str, Any]
) -> None:
    with sessions.begin() as session:
        row = session.get(ApiSubmission, tracking_id)
        if row is None:
            return
        row.status = status
        row.response_json = json.dumps(response, ensure_ascii=False)
        row.updated_at = utcnow()


def forget(sessions: sessionmaker[Session], tracking_id: str) -> None:
    """Drop a claim whose request failed on our side, so a retry with the key runs again."""
    with sessions.begin() as session:
        row = session.get(ApiSubmission, tracking_id)
        if row is not None:
            session.delete(row)


def latest(session: Session, system: str, record_id: str) -> Tracked | None:
    row = session.scalars(
        select(ApiSubmission)
        .where(ApiSubmission.system == system, ApiSubmission.record_id == record_id)
        .order_by(ApiSubmission.created_at.desc())
        .limit(1)
    ).one_or_none()
    return _tracked(row) if row else None
