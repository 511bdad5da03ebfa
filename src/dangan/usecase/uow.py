"""The unit of work: one use case's transaction, its ledger event, its policy check and what
must follow the commit.

    with UnitOfWork(deps, actor) as uow:
        uow.authorize(MANAGE_USERS, event="access.user_created")   # asks the policy
        ...                                                          # the effect, in uow.session
        uow.record("access.user_created", target="user:7", username="zhang")
        uow.after_commit(lambda: drain_outbox(deps, record_id))

- The effect and its ledger event commit together, or neither does. A unit of work that
  wrote anything but recorded no event refuses to commit (`UnrecordedEffectError`): no effect
  without its event.
- `refuse(error, event, …)` (and `authorize`, which uses it) arranges for a refusal to be
  recorded with outcome "denied" — after the transaction has rolled back, in one of its own —
  and returns the error to raise. Input that breaks a rule is simply raised: nothing is
  written and nothing is recorded.
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
from dangan.core.errors import DanganError, PermissionDeniedError
from dangan.ledger.events import audit_event
from dangan.ledger.store import AppendResult
from dangan.policy.decision import Decision, RecordAccessAttrs, decide
from dangan.usecase.actor import Actor
from dangan.usecase.ports import Deps

DENIED = "denied"


class UnrecordedEffectError(RuntimeError):
    """A programming error: a use case changed the database without a ledger event."""


class UnitOfWork:
    def __init__(self, deps: Deps, actor: Actor, *, at: datetime | None = None) -> None:
        self.deps = deps
        self.actor = actor
        self.at = at or utcnow()
        self.events: list[str] = []
        self._after: list[Callable[[], object]] = []
        self._refusal: dict[str, Any] | None = None
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
        tx.__exit__(exc_type, exc, tb)  # commits, or rolls back on an exception
        self._session = None
        if exc_type is not None:
            if self._refusal is not None:
                self._record_refusal(self._refusal)
            return
        for work in self._after:
            work()

    def _flushed(self, session: Session, flush_context: Any) -> None:
        self._wrote = True

    def _executed(self, state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            self._wrote = True

    def _unrecorded(self) -> bool:
        s = self.session
        pending = bool(s.new or s.dirty or s.deleted)
        return (self._wrote or pending) and not self.events

    # --- the ledger --------------------------------------------------------------------------

    def record(
        self,
        type_: str,
        *,
        target: str | None = None,
        outcome: str = "success",
        actor_name: str | None = None,
        **details: Any,
    ) -> AppendResult:
        """Append this use case's event (who, what, when, on what, outcome, details).

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
        appended = self.deps.ledger.append(self.session, built)
        self.events.append(type_)
        return appended

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
        self._refusal = audit_event(
            type_,
            self.actor.ledger_name,
            self.at,
            outcome,
            target,
            {"reason": error.code, **details, **self.actor.where()},
        )
        return error

    def _record_refusal(self, built: dict[str, Any]) -> None:
        with self.deps.sessions.begin() as session:
            self.deps.ledger.append(session, built)

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


def denied(decision: Decision) -> PermissionDeniedError:
    """The error of a refused decision: the policy's reason code and texts."""
    return PermissionDeniedError(code=decision.reason, zh=decision.zh, en=decision.en)
