"""The auditor's use cases on the ledger: verify the whole log, prove one entry, sign a
checkpoint. Reading the ledger is the auditor's right (and Dangan's own, at the operator's
console); the policy refuses everyone else, and the refusal is recorded."""

from __future__ import annotations

import base64
from typing import Any

from dangan.audit import checks
from dangan.audit.ports import AuditDeps
from dangan.core.errors import NotFoundError
from dangan.db.engine import read_only
from dangan.ledger import checkpoints
from dangan.ledger.checkpoints import Checkpoint
from dangan.ledger.report import VerifyReport
from dangan.policy.domain import READ_LEDGER
from dangan.usecase import Actor, UnitOfWork, use_case

__all__ = ["consistency", "latest_checkpoint", "prove_entry", "verify_ledger"]


@use_case()
def verify_ledger(deps: AuditDeps, actor: Actor) -> VerifyReport:
    """Recompute the log in one consistent snapshot (appends may continue meanwhile), and
    compare it with every copy outside the database, every receipt and every record's link."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.verified")
    with deps.sessions(bind=read_only(deps.engine)) as session:
        if deps.engine.dialect.name == "postgresql":
            # Without a snapshot, entries committed after the head was read look out of place.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        with deps.sequencer.at_rest():  # the snapshot starts between batches
            deps.ledger.size(session)
        report = deps.ledger.verify(session)
        checks.outside(
            session,
            deps.ledger,
            [r.store for r in deps.roots],
            report,
            deps.settings.ledger,
            now=lambda: _head_now(deps),
        )
        return report


def _head_now(deps: AuditDeps) -> int:
    """The log's size now, outside the verification's snapshot: what appends since added is
    in the copies legitimately."""
    with deps.sessions(bind=read_only(deps.engine)) as session:
        return deps.ledger.size(session)


@use_case()
def prove_entry(deps: AuditDeps, actor: Actor, seq: int) -> dict[str, Any]:
    """A self-contained proof of entry `seq` (signs a checkpoint if none covers it)."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.proved", seq=seq)
        return deps.ledger.prove(uow.session, seq)


@use_case()
def latest_checkpoint(deps: AuditDeps, actor: Actor) -> Checkpoint:
    """The latest signed checkpoint (every batch of appends signs one), with whatever
    cosignatures the witnesses gave; queued events are sequenced first."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.checkpoint_read")
    deps.sequencer.flush()
    with deps.sessions() as session:
        found = checkpoints.latest(session)
    if found is None:
        raise NotFoundError(
            code="no_checkpoint", zh="审计日志尚无签名检查点", en="the log has no checkpoint yet"
        )
    return found


@use_case()
def consistency(deps: AuditDeps, actor: Actor, old: int, new: int) -> dict[str, Any]:
    """An RFC 9162 consistency proof that the tree of size `new` extends the one of size
    `old`, with both signed checkpoints when they exist (what a holder of an old checkpoint
    asks for)."""
    with UnitOfWork(deps, actor) as uow:
        uow.authorize(READ_LEDGER, event="ledger.consistency_read", old=old, new=new)
        proof = deps.ledger.consistency_proof(uow.session, old, new)
        old_cp = checkpoints.at_size(uow.session, old)
        new_cp = checkpoints.at_size(uow.session, new)
    return {
        "old": old,
        "new": new,
        "proof": [base64.b64encode(p).decode("ascii") for p in proof],
        "old_checkpoint": old_cp.note if old_cp else None,
        "new_checkpoint": new_cp.note if new_cp else None,
    }
