"""The audit log store: append, checkpoint and prove over the stored tree (verification of
the whole log is `dangan.ledger.verify`).

Every method works inside the caller's transaction and never commits. Appends serialise on
the single `ledger_head` row (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so
seqs are contiguous and unique across threads and processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dangan.core.canonical import canonical_json
from dangan.core.clock import utcnow
from dangan.core.errors import IntegrityFailure, InvalidInputError, NotFoundError, invalid
from dangan.crypto.interfaces import CryptoSuite
from dangan.db.locking import for_update
from dangan.ledger import checkpoints
from dangan.ledger.bundles import verify_proof_bundle
from dangan.ledger.checkpoints import Checkpoint
from dangan.ledger.domain import (
    BUNDLE_VERSION,
    NodeGetter,
    TreeBuilder,
    consistency_proof,
    inclusion_path,
    leaf_hash,
    tree_root,
)
from dangan.ledger.events import event_target, validated
from dangan.ledger.models import LedgerEntry, LedgerHead, LedgerNode, LedgerPending

if TYPE_CHECKING:
    from dangan.ledger.report import VerifyReport

__all__ = ["AppendResult", "Checkpoint", "Ledger", "verify_proof_bundle"]

_HEAD_ID = 1
_T = TypeVar("_T")


@dataclass(frozen=True)
class AppendResult:
    seq: int
    leaf_hash: bytes


@dataclass(frozen=True)
class Batch:
    """Entries just appended in one transaction, and the root of the tree they end."""

    results: list[AppendResult]
    size: int
    root: bytes
    texts: list[str]  # the entries' exact event text, in order
    root_before: bytes  # the root of the tree the batch extends


class Ledger:
    """The append-only audit log of one instance, signed with its crypto suite.

    Use cases queue their events (`enqueue`, in their own transaction, with their effect);
    the sequencer appends queued and direct events in batches (`append_batch`) and signs one
    checkpoint per batch. Every method works in the caller's transaction and never commits.
    """

    def __init__(self, suite: CryptoSuite, origin: str = "dangan") -> None:
        self.suite = suite
        self.origin = origin
        self._h = suite.hash
        self._empty_len = len(suite.hash(b""))

    # --- writing ------------------------------------------------------------------------

    def enqueue(self, session: Session, event: Mapping[str, Any]) -> int:
        """Queue an event with the caller's effect; returns its queue id."""
        data = canonical_json(validated(event)).decode("utf-8")
        row = LedgerPending(event=data, created_at=utcnow())
        session.add(row)
        session.flush()
        return int(row.id)

    def append_batch(
        self, session: Session, events: Sequence[tuple[Mapping[str, Any], int | None]]
    ) -> Batch:
        """Append events (each with the queue id it came from, if any) as the next leaves;
        the head stays locked until the caller commits."""
        size = self._lock_head(session)
        frontier = self._fetch(session, TreeBuilder.frontier_keys(size))
        builder = TreeBuilder.resume(self._h, size, frontier)
        before = builder.root()
        entries, nodes, results = [], [], []
        now = utcnow()
        for event, pending_id in events:
            clean = validated(event)
            seq = builder.size
            clean["seq"] = seq  # hashed with the event: a moved entry no longer fits its place
            data = canonical_json(clean)
            digest = leaf_hash(self._h, data)
            entries.append(
                {
                    "seq": seq,
                    "event": data.decode("utf-8"),
                    "leaf_hash": digest,
                    "created_at": now,
                    "target": event_target(clean),
                    "pending_id": pending_id,
                }
            )
            nodes += [
                {"level": lv, "idx": idx, "hash": h, "seq": seq}
                for lv, idx, h in builder.push(digest)
            ]
            results.append(AppendResult(seq, digest))
        if entries:
            session.execute(insert(LedgerEntry), entries)
        if nodes:
            session.execute(insert(LedgerNode), nodes)
        session.execute(
            update(LedgerHead).where(LedgerHead.id == _HEAD_ID).values(size=builder.size)
        )
        texts = [str(e["event"]) for e in entries]
        return Batch(results, builder.size, builder.root(), texts, before)

    def append(self, session: Session, event: Mapping[str, Any]) -> AppendResult:
        """One event, in the caller's transaction, with no checkpoint and no copy: for tools
        and tests. Use cases go through the unit of work and the sequencer."""
        return self.append_batch(session, [(event, None)]).results[0]

    def checkpoint(self, session: Session) -> Checkpoint:
        """Sign the current tree head if no checkpoint of its size exists (for tools and
        tests; the sequencer signs one per batch, after checking the copies)."""
        size = self._lock_head(session)
        found = checkpoints.at_size(session, size)
        if found is not None:
            return found
        cp = checkpoints.sign_checkpoint(self.suite, self.origin, size, self.root(session, size))
        checkpoints.store(session, cp)
        return cp

    def lock_head(self, session: Session) -> int:
        """Lock the head row for this transaction (creating it on first use); the size."""
        return self._lock_head(session)

    # --- reading and proving ------------------------------------------------------------

    def size(self, session: Session) -> int:
        size = session.execute(
            select(LedgerHead.size).where(LedgerHead.id == _HEAD_ID)
        ).scalar_one_or_none()
        return int(size or 0)

    def root(self, session: Session, size: int | None = None) -> bytes:
        n = self._checked_size(session, size)
        return self._evaluate(session, lambda get: tree_root(self._h, get, n))

    def inclusion_proof(self, session: Session, seq: int, size: int | None = None) -> list[bytes]:
        n = self._checked_size(session, size)
        if not 0 <= seq < n:
            raise self._out_of_range("seq", f"{seq} ∉ [0, {n})")
        return self._evaluate(session, lambda get: inclusion_path(self._h, get, seq, n))

    def consistency_proof(self, session: Session, old: int, new: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4 from size `old` to `new` (empty when `old` is 0 or equals `new`)."""
        n = self._checked_size(session, new)
        if not 0 <= old <= n:
            raise self._out_of_range("old", f"{old} ∉ [0, {n}]")
        if old in (0, n):
            return []
        return self._evaluate(session, lambda get: consistency_proof(self._h, get, old, n))

    def checkpoints(self, session: Session) -> list[Checkpoint]:
        return checkpoints.every(session)

    def prove(self, session: Session, seq: int) -> dict[str, Any]:
        """A bundle an outside party checks with `verify_proof_bundle` and our public key,
        against the smallest stored checkpoint that covers `seq` (every batch of appends
        signs one, so there is always one)."""
        if not 0 <= seq < self.size(session):
            raise NotFoundError(
                code="ledger_entry_not_found",
                zh=f"审计日志中没有序号为 {seq} 的记录",
                en=f"the audit log has no entry {seq}",
            )
        cp = checkpoints.covering(session, seq)
        if cp is None:
            raise IntegrityFailure(
                code="ledger_entry_unsigned",
                zh=f"没有已签名的检查点包含审计记录 {seq}",
                en=f"no signed checkpoint covers audit entry {seq}",
            )
        entry = session.execute(
            select(LedgerEntry.event, LedgerEntry.leaf_hash).where(LedgerEntry.seq == seq)
        ).one_or_none()
        if entry is None:
            raise self._missing_node(0, seq)
        path = self.inclusion_proof(session, seq, cp.size)
        return {
            "version": BUNDLE_VERSION,
            "origin": cp.origin,
            "event": entry.event,
            "seq": seq,
            "leaf_hash": bytes(entry.leaf_hash).hex(),
            "tree_size": cp.size,
            "audit_path": [p.hex() for p in path],
            "checkpoint": cp.note,
            "hash": cp.hash_alg,
            "sign": cp.sign_alg,
            "public_key": self.suite.public_key().hex(),
        }

    # --- verifying ----------------------------------------------------------------------

    def verify(self, session: Session, *, batch: int = 2000) -> VerifyReport:
        """Recompute the whole log from its events, streaming `batch` entries at a time.

        On PostgreSQL run it in a REPEATABLE READ transaction if appends may run meanwhile,
        or entries committed after the head was read show up as beyond the head.
        """
        from dangan.ledger.verify import verify_log

        return verify_log(self, session, batch)

    # --- internals ----------------------------------------------------------------------

    def _lock_head(self, session: Session) -> int:
        """Lock the head row (creating it on first use) and return the tree size."""
        # typed loosely: for_update's tuple-bound TypeVar predates SQLAlchemy 2.1's Select[*Ts]
        plain: Select[Any] = select(LedgerHead.size).where(LedgerHead.id == _HEAD_ID)
        stmt = for_update(plain)
        size = session.execute(stmt).scalar_one_or_none()
        if size is None:
            dialect = session.get_bind().dialect.name
            values = {"id": _HEAD_ID, "size": 0}
            if dialect == "postgresql":
                session.execute(
                    postgresql.insert(LedgerHead).values(values).on_conflict_do_nothing()
                )
            elif dialect == "sqlite":
                session.execute(sqlite.insert(LedgerHead).values(values).on_conflict_do_nothing())
            else:
                session.execute(insert(LedgerHead).values(values))
            size = session.execute(stmt).scalar_one()
        return int(size)

    def _checked_size(self, session: Session, size: int | None) -> int:
        head = self.size(session)
        if size is None:
            return head
        if not 0 <= size <= head:
            raise self._out_of_range("size", f"{size} ∉ [0, {head}]")
        return size

    def _fetch(
        self, session: Session, keys: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Stored subtree hashes for (level, index) keys, in at most two queries."""
        wanted = set(keys)
        leaves = [i for lv, i in wanted if lv == 0]
        inner = [(lv, i) for lv, i in wanted if lv > 0]
        found: dict[tuple[int, int], bytes] = {}
        if leaves:
            rows = session.execute(
                select(LedgerEntry.seq, LedgerEntry.leaf_hash).where(LedgerEntry.seq.in_(leaves))
            )
            found.update({(0, r.seq): bytes(r.leaf_hash) for r in rows})
        if inner:
            by_level: dict[int, list[int]] = {}
            for lv, i in inner:
                by_level.setdefault(lv, []).append(i)
            # One `level = L AND idx IN (…)` term per level, not a row-value IN: SQLite plans
            # the latter as a scan of every node, the former as primary-key look-ups.
            rows2 = session.execute(
                select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(
                    or_(
                        *(
                            and_(LedgerNode.level == lv, LedgerNode.idx.in_(idxs))
                            for lv, idxs in sorted(by_level.items())
                        )
                    )
                )
            )
            found.update({(r.level, r.idx): bytes(r.hash) for r in rows2})
        for key in wanted - found.keys():
            raise self._missing_node(*key)
        return found

    def _evaluate(self, session: Session, compute: Callable[[NodeGetter], _T]) -> _T:
        """Run a pure tree computation against stored nodes: a dry run records which nodes it
        reads, one batched fetch loads them, then the real run (O(log n) look-ups in 2 queries
        instead of one query per node)."""
        wanted: set[tuple[int, int]] = set()
        blank = bytes(self._empty_len)

        def record(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return blank

        compute(record)
        found = self._fetch(session, wanted)
        return compute(lambda level, index: found[(level, index)])

    @staticmethod
    def _missing_node(level: int, index: int) -> IntegrityFailure:
        return IntegrityFailure(
            code="ledger_node_missing",
            zh=f"审计日志缺少树节点（层 {level}，序号 {index}），日志可能被篡改",
            en=f"the audit log lacks tree node (level {level}, index {index}); it may be tampered",
        )

    @staticmethod
    def _out_of_range(field_name: str, detail: str) -> InvalidInputError:
        return invalid(
            field_name, "out_of_range", f"超出日志范围：{detail}", f"out of range: {detail}"
        )
