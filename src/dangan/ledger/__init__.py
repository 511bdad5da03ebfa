"""The append-only audit log: an RFC 6962 Merkle tree with signed checkpoints."""

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
