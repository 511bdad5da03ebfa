"""Submitting: the one use case behind `POST /api/v1/submissions`, `dangan ingest` and the
demo loader.

  claim the Idempotency-Key (when given, or when the work goes to the background)
  → replay an earlier answer for the same key and body, or refuse a different body
  → archive (`records.archive_submission`: policy, checks, content, one transaction) — now,
    or in the background for large uploads, answering "accepted" at once
  → record the outcome for the status URL and the key → send the callback notice.

A business system always submits under its own name: whatever the envelope says, the source
system is the token's, so nobody writes into another system's numbering of source ids.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dangan.core.errors import DanganError, InternalError, error_as_record
from dangan.intake import tracking
from dangan.intake.callbacks import Callback, deliver_notice, notice
from dangan.intake.ports import Dispatch, Inline, IntakeDeps
from dangan.policy.domain import SYSTEM
from dangan.records.archiving import ARCHIVED, QUEUED, archive_submission
from dangan.records.domain import Submission, record_id_for
from dangan.records.receipts import Receipt
from dangan.usecase import Actor, use_case

log = logging.getLogger("dangan.intake")


@dataclass(frozen=True)
class Delivery:
    """How a submission came and how its submitter wants the answer."""

    idempotency_key: str | None = None
    request_digest: str = ""  # identity of the request body, compared for a reused key
    callback: Callback | None = None
    background: bool = False  # archive later; answer "accepted" now
    done: Callable[[], None] | None = None  # once archiving has ended (e.g. drop the spool)


@dataclass(frozen=True)
class Submitted:
    """The answer: a receipt now, an earlier answer replayed, or accepted for later."""

    record_id: str
    receipt: Receipt | None = None
    replay: tracking.Tracked | None = None

    @property
    def accepted(self) -> bool:
        return self.receipt is None and self.replay is None


@use_case(ARCHIVED, QUEUED)
def submit(
    deps: IntakeDeps,
    actor: Actor,
    sub: Submission,
    how: Delivery | None = None,
    dispatch: Dispatch | None = None,
) -> Submitted:
    """Archive `sub` for `actor`, honouring the idempotency key, background and callback."""
    how = how or Delivery()
    if actor.kind == SYSTEM:
        sub = dataclasses.replace(sub, source_system=actor.name)
    record_id = record_id_for(sub.source_system, sub.source_id)
    handed_over = False  # to a background job, which then calls `how.done` itself
    try:
        tracking_id = None
        if how.idempotency_key is not None or how.background:
            tracked, created = tracking.begin(
                deps.sessions,
                sub.source_system,
                sub.source_id,
                record_id,
                how.idempotency_key,
                how.request_digest,
            )
            if not created:
                return Submitted(record_id, replay=tracked)
            tracking_id = tracked.id
        job = _Job(deps, actor, sub, how, tracking_id, dispatch or Inline())
        if how.background:
            job.dispatch.in_background(job.in_background)
            handed_over = True
            return Submitted(record_id)
        return Submitted(record_id, receipt=job.archive())
    finally:
        if not handed_over:
            _done(how)


def _done(how: Delivery) -> None:
    if how.done is not None:
        how.done()


@dataclass(frozen=True)
class _Job:
    deps: IntakeDeps
    actor: Actor
    sub: Submission
    how: Delivery
    tracking_id: str | None
    dispatch: Dispatch

    @property
    def record_id(self) -> str:
        return record_id_for(self.sub.source_system, self.sub.source_id)

    def archive(self) -> Receipt:
        """Archive; record and announce the outcome, then return the receipt or re-raise.

        A failure on our side of a request someone waits on releases its Idempotency-Key
        so a retry runs again; in the background it is recorded as `failed`.
        """
        try:
            receipt = archive_submission(self.deps, self.actor, self.sub)
        except Exception as exc:
            self._failed(exc)
            raise
        self._finish(str(receipt["status"]), receipt)
        return receipt

    def in_background(self) -> None:
        try:
            self.archive()
        except Exception:  # already recorded for the status URL and the callback
            log.info("background submission %s did not archive", self.record_id)
        finally:
            _done(self.how)

    def _failed(self, exc: Exception) -> None:
        ours = not isinstance(exc, DanganError) or exc.server_side
        if not isinstance(exc, DanganError):
            log.exception("archiving %s failed", self.record_id)
        if ours and not self.how.background:
            if self.tracking_id:
                tracking.forget(self.deps.sessions, self.tracking_id)
            return
        error = exc if isinstance(exc, DanganError) else InternalError.logged()
        status = tracking.FAILED if ours else tracking.REJECTED
        if self.tracking_id:
            tracking.finish(self.deps.sessions, self.tracking_id, status, error_as_record(error))
        if self.how.callback is not None:
            self._notify(tracking.REJECTED, self.how.callback.problem(error))

    def _finish(self, status: str, receipt: Receipt) -> None:
        if self.tracking_id:
            tracking.finish(self.deps.sessions, self.tracking_id, status, receipt)
        self._notify(status, receipt)

    def _notify(self, status: str, body: dict[str, Any]) -> None:
        cb = self.how.callback
        if cb is None:
            return
        message = notice(status, self.sub.source_system, self.sub.source_id, self.record_id, body)
        self.dispatch.notify(
            deliver_notice, cb.url, message, cb.key, attempts=cb.attempts, backoff=cb.backoff
        )
