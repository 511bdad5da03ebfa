"""The audit log store: append, checkpoint and prove over the stored tree (verification of
the whole log is `dangan.ledger.verify`).

Every method works inside the caller's transaction and never commits. Appends serialise on
the single `ledger_head` row (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so
seqs are contiguous and unique across threads and processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dangan.core.canonical import canonical_json
from dangan.core.clock import iso, utcnow
from dangan.core.errors import (
    IntegrityFailure,
    InvalidInputError,
    NotFoundError,
    Problem,
    invalid,
)
from dangan.crypto.interfaces import CryptoSuite
from dangan.db.locking import for_update
from dangan.ledger.domain import (
    BUNDLE_VERSION,
    NodeGetter,
    checkpoint_body,
    consistency_proof,
    inclusion_path,
    leaf_hash,
    node_hash,
    tree_root,
    verify_proof_bundle,
)
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode

if TYPE_CHECKING:
    from dangan.ledger.verify import VerifyReport

__all__ = [
    "AppendResult",
    "Checkpoint",
    "Ledger",
    "verify_proof_bundle",
]

REQUIRED_KEYS = ("type", "actor", "at")
OPTIONAL_KEYS = ("target", "outcome", "details")
_HEAD_ID = 1
_T = TypeVar("_T")


@dataclass(frozen=True)
class AppendResult:
    seq: int
    leaf_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str
    hash_alg: str
    sign_alg: str
    signature: bytes

    def body(self) -> bytes:
        return checkpoint_body(
            origin=self.origin,
            size=self.size,
            root=self.root,
            time=self.time,
            hash_name=self.hash_alg,
            sign_name=self.sign_alg,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "time": self.time,
            "hash": self.hash_alg,
            "sign": self.sign_alg,
            "signature": self.signature.hex(),
        }

    @classmethod
    def of(cls, row: LedgerCheckpoint) -> Checkpoint:
        return cls(
            origin=row.origin,
            size=row.size,
            root=bytes(row.root),
            time=row.time,
            hash_alg=row.hash_alg,
            sign_alg=row.sign_alg,
            signature=bytes(row.signature),
        )


def event_target(event: Mapping[str, Any]) -> str | None:
    target = event.get("target")
    return str(target)[:200] if target not in (None, "") else None


def _trailing_ones(n: int) -> int:
    return ((n ^ (n + 1)).bit_length()) - 1


class Ledger:
    """The append-only audit log of one instance, signed with its crypto suite."""

    def __init__(self, suite: CryptoSuite, origin: str = "dangan") -> None:
        self.suite = suite
        self.origin = origin
        self._h = suite.hash
        self._empty_len = len(suite.hash(b""))

    # --- writing ------------------------------------------------------------------------

    def append(self, session: Session, event: Mapping[str, Any]) -> AppendResult:
        """Add one event as the next leaf; the caller's transaction commits it."""
        clean = self._validated(event)
        seq = self._lock_head(session)
        clean["seq"] = seq  # hashed with the event, so a moved entry no longer fits its place
        data = canonical_json(clean)
        digest = leaf_hash(self._h, data)

        # the subtrees this leaf completes: one per trailing 1 bit of seq
        depth = _trailing_ones(seq)
        siblings = self._fetch(session, [(lv, (seq >> lv) - 1) for lv in range(depth)])
        nodes: list[dict[str, Any]] = []
        cur = digest
        for lv in range(depth):
            cur = node_hash(self._h, siblings[(lv, (seq >> lv) - 1)], cur)
            nodes.append({"level": lv + 1, "idx": seq >> (lv + 1), "hash": cur, "seq": seq})

        session.execute(
            insert(LedgerEntry),
            [
                {
                    "seq": seq,
                    "event": data.decode("utf-8"),
                    "leaf_hash": digest,
                    "created_at": utcnow(),
                    "target": event_target(clean),
                }
            ],
        )
        if nodes:
            session.execute(insert(LedgerNode), nodes)
        session.execute(update(LedgerHead).where(LedgerHead.id == _HEAD_ID).values(size=seq + 1))
        return AppendResult(seq=seq, leaf_hash=digest)

    def checkpoint(self, session: Session) -> Checkpoint:
        """Sign the current tree head and store it (idempotent per size); caller commits."""
        size = self._lock_head(session)
        existing = session.execute(
            select(LedgerCheckpoint).where(LedgerCheckpoint.size == size)
        ).scalar_one_or_none()
        if existing is not None:
            return Checkpoint.of(existing)
        root = self.root(session, size)
        unsigned = Checkpoint(
            origin=self.origin,
            size=size,
            root=root,
            time=iso(utcnow()),
            hash_alg=self.suite.hash_name,
            sign_alg=self.suite.sign_name,
            signature=b"",
        )
        cp = Checkpoint(**{**unsigned.__dict__, "signature": self.suite.sign(unsigned.body())})
        session.execute(
            insert(LedgerCheckpoint),
            [
                {
                    "size": cp.size,
                    "origin": cp.origin,
                    "root": cp.root,
                    "time": cp.time,
                    "hash_alg": cp.hash_alg,
                    "sign_alg": cp.sign_alg,
                    "signature": cp.signature,
                }
            ],
        )
        return cp

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
        n = self._checked_size(session, new)
        if not 1 <= old <= n:
            raise self._out_of_range("old", f"{old} ∉ [1, {n}]")
        return self._evaluate(session, lambda get: consistency_proof(self._h, get, old, n))

    def checkpoints(self, session: Session) -> list[Checkpoint]:
        rows = session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size))
        return [Checkpoint.of(r) for r in rows.scalars()]

    def prove(self, session: Session, seq: int) -> dict[str, Any]:
        """A bundle an outside party checks with `verify_proof_bundle` and our public key.

        Uses the smallest stored checkpoint that covers `seq`; if none does, signs one at
        the current size (the caller commits it).
        """
        if not 0 <= seq < self.size(session):
            raise NotFoundError(
                code="ledger_entry_not_found",
                zh=f"审计日志中没有序号为 {seq} 的记录",
                en=f"the audit log has no entry {seq}",
            )
        row = session.execute(
            select(LedgerCheckpoint)
            .where(LedgerCheckpoint.size > seq)
            .order_by(LedgerCheckpoint.size)
            .limit(1)
        ).scalar_one_or_none()
        cp = Checkpoint.of(row) if row is not None else self.checkpoint(session)
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
            "checkpoint": cp.as_dict(),
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

    def _validated(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(event, Mapping):
            raise invalid("event", "not_an_object", "事件必须是对象", "the event must be an object")
        problems: list[Problem] = []
        clean: dict[str, Any] = {}
        for key in REQUIRED_KEYS:
            if key not in event or event[key] in (None, ""):
                problems.append(Problem(key, "required", f"缺少必填项 {key}", f"{key} is required"))
        for key, raw in event.items():
            if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
                problems.append(
                    Problem(
                        str(key),
                        "unknown_field",
                        f"审计事件不接受字段 {key}（seq 由日志分配）",
                        f"audit events take no field {key} (seq is assigned by the log)",
                    )
                )
                continue
            value = iso(raw) if key == "at" and isinstance(raw, datetime) else raw
            if (
                key in ("type", "actor", "at")
                and value not in (None, "")
                and not isinstance(value, str)
            ):
                problems.append(
                    Problem(key, "not_a_string", f"{key} 必须是字符串", f"{key} must be a string")
                )
            clean[key] = value
        try:
            canonical_json(clean)
        except (TypeError, ValueError) as exc:
            problems.append(
                Problem("details", "not_canonical", f"无法规范化为 JSON：{exc}", str(exc))
            )
        if problems:
            raise InvalidInputError.of(problems)
        return clean

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
            rows2 = session.execute(
                select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(
                    tuple_(LedgerNode.level, LedgerNode.idx).in_(inner)
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
