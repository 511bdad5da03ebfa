"""The unit of work: one use case's transaction, its ledger event, its policy check and what
must follow the commit.

    with UnitOfWork(deps, actor) as uow:
        uow.authorize(MANAGE_USERS, event="access.user_created")   # asks the policy
        ...                                                          # the effect, in uow.session
        uow.record("access.user_created", target="user:7", username="zhang")
        uow.after_commit(lambda: drain_outbox(deps, record_id))

- The effect and its ledger event commit together, or neither does: the event is queued in
  the same transaction (`Ledger.enqueue`) and the sequencer gives it its position in the next
  batch, which `__exit__` waits for — so when the unit of work returns, its events are in the
  tree, signed and copied to storage (`Recorded.seq` says where). A unit of work whose only
  effect is its events hands them straight to the sequencer, with no transaction of its own.
  A unit of work that wrote anything but recorded no event refuses to commit
  (`UnrecordedEffectError`): no effect without its event.
- `refuse(error, event, …)` (and `authorize`, which uses it) arranges for a refusal to be
  recorded with outcome "denied" — after the transaction has rolled back, in one of its own —
  and returns the error to raise. Input that breaks a rule is simply raised: nothing is
  written and nothing is recorded.
- `fail(error, event, …)` is for failures whose trace must be kept with what the use case
  did before failing (a failed sign-in's attempt counter, a replica found damaged): the event
  is recorded in this transaction, the transaction commits, then the error is raised.
- Work registered with `after_commit` (package files, the index, callbacks) runs only once
  the commit has succeeded, in order. It must be safe to repeat: what it does is also in the
  outbox, which every start drains.

Unlike cosmicpython's abstract UoW this one is concrete: the session is SQLAlchemy's and the
log is `dangan.ledger`. Tests use real databases, so there is nothing to fake.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from dangan.core.clock import utcnow
from dangan.core.errors import DanganError, PermissionDeniedError, UnrecordedEffectError
from dangan.ledger.events import audit_event
from dangan.ledger.models import LEDGER_TABLE_NAMES
from dangan.ledger.sequencer import Sequenced
from dangan.policy.decision import Decision, RecordAccessAttrs, decide
from dangan.usecase.actor import Actor
from dangan.usecase.ports import Deps

__all__ = ["UnitOfWork", "UnrecordedEffectError", "authorize", "denied"]
DENIED = "denied"


def _effects(session: Session) -> bool:
    changed = [*session.new, *session.dirty, *session.deleted]
    return any(getattr(obj, "__tablename__", None) not in LEDGER_TABLE_NAMES for obj in changed)


class Recorded:
    """An event recorded by a unit of work; where it landed once the unit has returned."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self._at: Sequenced | None = None

    @property
    def seq(self) -> int:
        return self.sequenced.seq

    @property
    def sequenced(self) -> Sequenced:
        if self._at is None:
            raise RuntimeError("the event is sequenced when its unit of work has returned")
        return self._at


class UnitOfWork:
    def __init__(self, deps: Deps, actor: Actor, *, at: datetime | None = None) -> None:
        self.deps = deps
        self.actor = actor
        self.at = at or utcnow()
        self.events: list[str] = []
        self._recorded: list[Recorded] = []
        self._after: list[Callable[[], object]] = []
        self._refusal: dict[str, Any] | None = None
        self._keep: BaseException | None = None  # raised after a commit (see `fail`)
        self._wrote = False
        self._tx: AbstractContextManager[Session] | None = None
        self._session: Session | None = None

    # --- the transaction -------------------------------------------------------------------

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._tx = self.deps.sessions.begin()
        self._session = self._tx.__enter__()
        event.listen(self._session, "after_flush", self._flushed)
        event.listen(self._session, "do_orm_execute", self._executed)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tx is not None
        tx, self._tx = self._tx, None
        if exc_type is None and self._unrecorded():
            missing = UnrecordedEffectError(
                "a use case wrote to the database without a ledger event (actor "
                f"{self.actor.ledger_name})"
            )
            tx.__exit__(UnrecordedEffectError, missing, None)
            raise missing
        if exc is not None and exc is not self._keep:
            tx.__exit__(exc_type, exc, tb)  # rolls back
            self._session = None
            if self._refusal is not None:
                record_refusal(self.deps, self._refusal)
            return
        self._commit(tx)
        if exc is None:
            for work in self._after:
                work()

    def _commit(self, tx: AbstractContextManager[Session]) -> None:
        """Commit the effect with its queued events and wait for their batch — or, with no
        effect but the events, hand them to the sequencer directly."""
        if self._wrote or _effects(self.session):
            try:
                self.deps.sequencer.check(self.session)
            except BaseException as exc:
                tx.__exit__(type(exc), exc, exc.__traceback__)  # rolls the effect back
                self._session = None
                raise
            ids = [self.deps.ledger.enqueue(self.session, r.event) for r in self._recorded]
            tx.__exit__(None, None, None)
            self._session = None
            landed = self.deps.sequencer.await_queued(ids)
        else:
            tx.__exit__(None, None, None)  # nothing was written: an empty commit
            self._session = None
            landed = self.deps.sequencer.append([r.event for r in self._recorded])
        for recorded, where in zip(self._recorded, landed, strict=True):
            recorded._at = where

    # Writes to the ledger's own tables (entries, nodes, head, signed checkpoints) are the
    # log keeping itself; every other write is an effect that needs its event.

    def _flushed(self, session: Session, flush_context: Any) -> None:
        if _effects(session):
            self._wrote = True

    def _executed(self, state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) not in LEDGER_TABLE_NAMES:
                self._wrote = True

    def _unrecorded(self) -> bool:
        return (self._wrote or _effects(self.session)) and not self.events

    # --- the ledger --------------------------------------------------------------------------

    def record(
        self,
        type_: str,
        *,
        target: str | None = None,
        outcome: str = "success",
        actor_name: str | None = None,
        **details: Any,
    ) -> Recorded:
        """Record this use case's event (who, what, when, on what, outcome, details).

        `actor_name` overrides the actor's ledger name where the event is about somebody
        else acting (a sign-in names the account, not the anonymous visitor).
        """
        built = audit_event(
            type_,
            actor_name or self.actor.ledger_name,
            self.at,
            outcome,
            target,
            {**details, **self.actor.where()},
        )
        recorded = Recorded(built)
        self._recorded.append(recorded)
        self.events.append(type_)
        return recorded

    def refuse(
        self,
        error: DanganError,
        type_: str,
        *,
        target: str | None = None,
        outcome: str = DENIED,
        **details: Any,
    ) -> DanganError:
        """Record `error` as a refused `type_` once the transaction has rolled back; returns the
        error for the caller to raise. The last refusal arranged wins."""
        self._refusal = refusal_event(self.actor, self.at, type_, outcome, target, error, details)
        return error

    def fail(
        self,
        error: DanganError,
        type_: str,
        *,
        target: str | None = None,
        outcome: str = "failure",
        **details: Any,
    ) -> DanganError:
        """Record `type_` with `outcome` now, in this transaction; when the caller raises the
        returned error, the transaction still commits, then the error propagates."""
        self.record(type_, target=target, outcome=outcome, reason=error.code, **details)
        self._keep = error
        return error

    # --- the policy --------------------------------------------------------------------------

    def decide(self, action: str, resource: RecordAccessAttrs | None = None) -> Decision:
        return decide(self.actor.subject, action, resource, self.at)

    def authorize(
        self,
        action: str,
        resource: RecordAccessAttrs | None = None,
        *,
        event: str,
        target: str | None = None,
        **details: Any,
    ) -> Decision:
        """Ask the policy; a refusal is recorded as a denied `event` and raised."""
        decision = self.decide(action, resource)
        if not decision.allowed:
            raise self.refuse(denied(decision), event, target=target, **details)
        return decision

    # --- after the commit --------------------------------------------------------------------

    def after_commit(self, work: Callable[[], object]) -> None:
        self._after.append(work)


def authorize(
    deps: Deps,
    actor: Actor,
    action: str,
    resource: RecordAccessAttrs | None = None,
    *,
    event: str,
    target: str | None = None,
    **details: Any,
) -> Decision:
    """Ask the policy before a use case's first effect when that effect precedes its unit of
    work (archiving stages content before its transaction): no transaction is opened unless
    the answer is no, which is recorded as a denied `event` and raised."""
    at = utcnow()
    decision = decide(actor.subject, action, resource, at)
    if not decision.allowed:
        error = denied(decision)
        record_refusal(deps, refusal_event(actor, at, event, DENIED, target, error, details))
        raise error
    return decision


def refusal_event(  # noqa: PLR0917 - the event's fields
    actor: Actor,
    at: datetime,
    type_: str,
    outcome: str,
    target: str | None,
    error: DanganError,
    details: dict[str, Any],
) -> dict[str, Any]:
    return audit_event(
        type_,
        actor.ledger_name,
        at,
        outcome,
        target,
        {"reason": error.code, **details, **actor.where()},
    )


def record_refusal(deps: Deps, built: dict[str, Any]) -> None:
    """A refusal's event: it is the whole effect, so the sequencer writes it directly."""
    deps.sequencer.append([built])


def denied(decision: Decision) -> PermissionDeniedError:
    """The error of a refused decision: the policy's reason code and texts."""
    return PermissionDeniedError(code=decision.reason, zh=decision.zh, en=decision.en)
