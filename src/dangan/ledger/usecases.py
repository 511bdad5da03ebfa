"""Ledger use cases shared by CLI, API and jobs: verify the whole log, prove one entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dangan.ledger.store import Checkpoint
from dangan.ledger.verify import VerifyReport

if TYPE_CHECKING:
    from dangan.bootstrap import Container


def verify_ledger(c: Container) -> VerifyReport:
    """Recompute everything in one consistent snapshot (appends may continue meanwhile)."""
    with c.sessions() as session:
        if c.engine.dialect.name == "postgresql":
            # Without a snapshot, entries committed after the head was read look out of place.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return c.ledger.verify(session)


def prove_entry(c: Container, seq: int) -> dict[str, Any]:
    """A self-contained proof of entry `seq` (signs a checkpoint if none covers it)."""
    with c.sessions.begin() as session:
        return c.ledger.prove(session, seq)


def sign_checkpoint(c: Container) -> Checkpoint:
    with c.sessions.begin() as session:
        return c.ledger.checkpoint(session)
