"""The auditor's use cases on the ledger: verify the whole log, prove one entry, sign a
checkpoint. Reading the ledger is the auditor's right (and Dangan's own, at the operator's
console); the policy refuses everyone else, and the refusal is recorded."""

from __future__ import annotations

from typing import Any

from dangan.audit.ports import AuditDeps
from dangan.ledger.store import Checkpoint
from dangan.ledger.verify import VerifyReport
from dangan.policy.domain import READ_LEDGER
from dangan.usecase import Actor, UnitOfWork, use_case

__all__ = ["prove_entry", "sign_checkpoint", "verify_ledger"]


@use_case()
def verify_ledger(deps: AuditDeps, actor: Actor) -> VerifyReport:
    """Recompute everything in one consistent snapshot (appends may continue meanwhile)."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.verified")
    with deps.sessions() as session:
        if deps.engine.dialect.name == "postgresql":
            # Without a snapshot, entries committed after the head was read look out of place.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return deps.ledger.verify(session)


@use_case()
def prove_entry(deps: AuditDeps, actor: Actor, seq: int) -> dict[str, Any]:
    """A self-contained proof of entry `seq` (signs a checkpoint if none covers it)."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.proved", seq=seq)
        return deps.ledger.prove(uow.session, seq)


@use_case()
def sign_checkpoint(deps: AuditDeps, actor: Actor) -> Checkpoint:
    """Sign the current tree head (idempotent per size)."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.checkpointed")
        return deps.ledger.checkpoint(uow.session)
