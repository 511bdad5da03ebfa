"""The append-only audit log: an RFC 6962 Merkle tree with signed checkpoints.

Names are loaded on first use: the pure modules (`note`, `domain`) are imported by the witness
and the CLI's offline checks, which should not pay for SQLAlchemy and the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dangan.ledger.bundles import verify_proof_bundle
    from dangan.ledger.domain import (
        MemoryTree,
        TreeBuilder,
        leaf_hash,
        node_hash,
        verify_consistency,
        verify_inclusion,
    )
    from dangan.ledger.models import (
        LEDGER_TABLES,
        LedgerCheckpoint,
        LedgerEntry,
        LedgerHead,
        LedgerNode,
    )
    from dangan.ledger.report import LedgerProblem, VerifyReport
    from dangan.ledger.store import AppendResult, Checkpoint, Ledger

_WHERE = {
    "verify_proof_bundle": "bundles",
    "MemoryTree": "domain",
    "TreeBuilder": "domain",
    "leaf_hash": "domain",
    "node_hash": "domain",
    "verify_consistency": "domain",
    "verify_inclusion": "domain",
    "LEDGER_TABLES": "models",
    "LedgerCheckpoint": "models",
    "LedgerEntry": "models",
    "LedgerHead": "models",
    "LedgerNode": "models",
    "LedgerProblem": "report",
    "VerifyReport": "report",
    "AppendResult": "store",
    "Checkpoint": "store",
    "Ledger": "store",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


__all__ = [
    "LEDGER_TABLES",
    "AppendResult",
    "Checkpoint",
    "Ledger",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHead",
    "LedgerNode",
    "LedgerProblem",
    "MemoryTree",
    "TreeBuilder",
    "VerifyReport",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof_bundle",
]
