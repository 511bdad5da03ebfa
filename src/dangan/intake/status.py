"""Where a system's submission stands: processing, archived, pending_review, rejected, failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dangan.core.errors import DanganError, NotFoundError, error_from_record
from dangan.intake import tracking
from dangan.intake.ports import IntakeDeps
from dangan.records.models import Record
from dangan.records.receipts import stored_receipt
from dangan.usecase import Actor, UnitOfWork, use_case


@dataclass(frozen=True)
class SubmissionStatus:
    record_id: str
    status: str
    receipt: dict[str, Any] | None
    error: DanganError | None


@use_case()
def submission_status(deps: IntakeDeps, actor: Actor, record_id: str) -> SubmissionStatus:
    """The status of one of the actor's own submissions. Another system's records are
    reported as not found, so ids cannot be probed."""
    system = actor.name
    with UnitOfWork(deps, actor) as uow:
        rec = uow.session.get(Record, record_id)
        if rec is not None and rec.source_system == system:
            return SubmissionStatus(rec.id, rec.status, stored_receipt(uow.session, rec), None)
        tracked = tracking.latest(uow.session, system, record_id)
    if tracked is None:
        raise NotFoundError(
            code="submission_not_found",
            zh=f"找不到该提交：{record_id}",
            en=f"no such submission: {record_id}",
        )
    if tracked.failed and tracked.response is not None:
        return SubmissionStatus(
            record_id, tracked.status, None, error_from_record(tracked.response)
        )
    return SubmissionStatus(record_id, tracked.status, tracked.response, None)
