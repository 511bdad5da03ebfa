"""The audit log service: append, checkpoint, prove and verify over the stored tree.

Every method works inside the caller's transaction and never commits. Appends serialise on
the single `ledger_head` row (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so
seqs are contiguous and unique across threads and processes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dangan.core.canonical import canonical_json
from dangan.core.clock import iso, utcnow
from dangan.core.errors import IntegrityFailure, InvalidInputError, NotFoundError, Problem
from dangan.crypto.interfaces import CryptoSuite
from dangan.db.locking import for_update
from dangan.ledger.domain import (
    BUNDLE_VERSION,
    NodeGetter,
    TreeBuilder,
    checkpoint_body,
    consistency_proof,
    inclusion_path,
    leaf_hash,
    node_hash,
    tree_root,
    verify_consistency,
    verify_proof_bundle,
)
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode

__all__ = [
    "AppendResult",
    "Checkpoint",
    "Ledger",
    "LedgerProblem",
    "VerifyReport",
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


@dataclass(frozen=True)
class LedgerProblem:
    """One finding of `verify`. `seq` names one entry; `seq_range` is [start, end) of seqs
    (tree sizes (start, end]) when only a range can be named."""

    code: str
    zh: str
    en: str
    seq: int | None = None
    seq_range: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "seq": self.seq,
            "seq_range": list(self.seq_range) if self.seq_range else None,
        }

    def __str__(self) -> str:
        return f"[{self.code}] {self.zh} / {self.en}"


@dataclass
class VerifyReport:
    size: int
    entries_checked: int = 0
    nodes_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[LedgerProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def seqs(self, *codes: str) -> set[int]:
        """Entries named individually (by the given problem codes, or by any)."""
        return {
            p.seq for p in self.problems if p.seq is not None and (not codes or p.code in codes)
        }

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "entries_checked": self.entries_checked,
            "nodes_checked": self.nodes_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "problems": [p.as_dict() for p in self.problems],
        }


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
        return _Verifier(self, session, batch).run()

    # --- internals ----------------------------------------------------------------------

    def _validated(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(event, Mapping):
            raise InvalidInputError.of(
                [Problem("event", "not_an_object", "事件必须是对象", "the event must be an object")]
            )
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
        return InvalidInputError.of(
            [
                Problem(
                    field_name, "out_of_range", f"超出日志范围：{detail}", f"out of range: {detail}"
                )
            ]
        )


class _Verifier:
    """One pass of `Ledger.verify`: entries in seq order, with the nodes they completed."""

    def __init__(self, ledger: Ledger, session: Session, batch: int) -> None:
        self.ledger = ledger
        self.session = session
        self.batch = batch
        self.h = ledger.suite.hash
        self.builder = TreeBuilder(self.h)
        self.head = ledger.size(session)
        self.report = VerifyReport(size=self.head)
        self.checkpoints = ledger.checkpoints(session)
        self.next_cp = 0
        self.last_good = 0  # size of the last checkpoint whose root and signature held
        self.last_missing = -1
        self.any_missing = False
        self.blank = bytes(len(self.h(b"")))

    def add(self, code: str, zh: str, en: str, **where: Any) -> None:
        self.report.problems.append(LedgerProblem(code, zh, en, **where))

    def run(self) -> VerifyReport:
        self.check_checkpoints_at_size()  # a checkpoint of the empty tree
        last_seq = -1
        while True:
            rows = self.session.execute(
                select(LedgerEntry.seq, LedgerEntry.event, LedgerEntry.leaf_hash)
                .where(LedgerEntry.seq > last_seq)
                .order_by(LedgerEntry.seq)
                .limit(self.batch)
            ).all()
            if not rows:
                break
            stored = self.session.execute(
                select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(
                    LedgerNode.seq > last_seq, LedgerNode.seq <= rows[-1].seq
                )
            )
            nodes = {(r.level, r.idx): bytes(r.hash) for r in stored}
            for row in rows:
                if row.seq >= self.head:
                    self.add(
                        "entry_beyond_head",
                        f"记录 {row.seq} 超出日志头记载的大小 {self.head}",
                        f"entry {row.seq} lies beyond the head size {self.head}",
                        seq=row.seq,
                    )
                    continue
                self.fill_gap(row.seq)
                self.push(self.check_entry(row.seq, row.event, bytes(row.leaf_hash)), nodes)
            last_seq = rows[-1].seq
        self.fill_gap(self.head)
        for cp in self.checkpoints[self.next_cp :]:
            self.add(
                "checkpoint_beyond_head",
                f"检查点 {cp.size} 超出日志当前大小 {self.head}，记录可能被截断",
                f"checkpoint {cp.size} is beyond the log size {self.head}; entries may be cut",
                seq_range=(self.head, cp.size),
            )
        self.check_consistency()
        return self.report

    def fill_gap(self, upto: int) -> None:
        start = self.builder.size
        if start >= upto:
            return
        self.add(
            "entry_missing",
            f"缺少记录 {start}–{upto - 1}（已被删除）",
            f"entries {start}..{upto - 1} are missing (deleted)",
            seq=start,
            seq_range=(start, upto),
        )
        self.any_missing = True
        self.last_missing = upto - 1
        for _ in range(start, upto):
            # a stand-in leaf keeps later positions aligned; checkpoints over it then fail
            self.builder.push(self.blank)
            self.check_checkpoints_at_size()

    def check_entry(self, seq: int, text: str, stored_leaf: bytes) -> bytes:
        """Check one entry; return the leaf hash to build the tree with."""
        self.report.entries_checked += 1
        data = text.encode("utf-8")
        try:
            event = json.loads(text)
            if canonical_json(event) != data:
                self.add(
                    "event_not_canonical",
                    f"记录 {seq} 的事件不是规范 JSON（被改动）",
                    f"entry {seq}: the event is not canonical JSON (altered)",
                    seq=seq,
                )
            elif not isinstance(event, dict) or event.get("seq") != seq:
                claimed = event.get("seq") if isinstance(event, dict) else None
                self.add(
                    "entry_out_of_place",
                    f"位置 {seq} 上的事件自称序号 {claimed}（记录被调换或移动）",
                    f"the event at position {seq} carries seq {claimed} (reordered or moved)",
                    seq=seq,
                )
        except (ValueError, TypeError):
            self.add(
                "event_unreadable",
                f"记录 {seq} 的事件无法解析",
                f"entry {seq}: the event is not valid JSON",
                seq=seq,
            )
        computed = leaf_hash(self.h, data)
        if computed != stored_leaf:
            self.add(
                "leaf_hash_mismatch",
                f"记录 {seq} 的事件与其叶哈希不符（被改动）",
                f"entry {seq}: the event does not match its leaf hash (altered)",
                seq=seq,
            )
        # The stored hash is what the signed roots cover; building with it keeps one altered
        # event from masking damage elsewhere. A recomputed hash is caught by the roots.
        return stored_leaf if len(stored_leaf) == len(self.blank) else computed

    def push(self, leaf: bytes, stored: Mapping[tuple[int, int], bytes]) -> None:
        for level, index, digest in self.builder.push(leaf):
            start = index << level
            if self.any_missing and self.last_missing >= start:
                continue  # already reported as missing entries
            self.report.nodes_checked += 1
            found = stored.get((level, index))
            span = (start, (index + 1) << level)
            if found is None:
                self.add(
                    "node_missing",
                    f"缺少树节点（层 {level}，序号 {index}），覆盖记录 {span[0]}–{span[1] - 1}",
                    f"tree node (level {level}, index {index}) over entries "
                    f"{span[0]}..{span[1] - 1} is missing",
                    seq_range=span,
                )
            elif found != digest:
                self.add(
                    "node_mismatch",
                    f"树节点（层 {level}，序号 {index}）与记录 {span[0]}–{span[1] - 1} 不符",
                    f"tree node (level {level}, index {index}) does not match entries "
                    f"{span[0]}..{span[1] - 1}",
                    seq_range=span,
                )
        self.check_checkpoints_at_size()

    def check_checkpoints_at_size(self) -> None:
        size = self.builder.size
        while self.next_cp < len(self.checkpoints) and self.checkpoints[self.next_cp].size <= size:
            cp = self.checkpoints[self.next_cp]
            self.next_cp += 1
            self.report.checkpoints_checked += 1
            signed = self.ledger.suite.verify(
                cp.body(), cp.signature, public_key=self.ledger.suite.public_key()
            )
            if not signed:
                self.add(
                    "checkpoint_signature_invalid",
                    f"检查点 {cp.size} 的签名无效（伪造或被改动）",
                    f"checkpoint {cp.size}: the signature does not verify (forged or altered)",
                    seq_range=(0, cp.size),
                )
            if (cp.hash_alg, cp.sign_alg) != (
                self.ledger.suite.hash_name,
                self.ledger.suite.sign_name,
            ):
                self.add(
                    "checkpoint_algorithm_mismatch",
                    f"检查点 {cp.size} 使用的算法与本实例不同",
                    f"checkpoint {cp.size} names other algorithms than this instance's",
                    seq_range=(0, cp.size),
                )
            if self.builder.root() != cp.root:
                self.add(
                    "checkpoint_root_mismatch",
                    f"检查点 {cp.size} 的根哈希与记录不符：改动位于记录 {self.last_good}–"
                    f"{cp.size - 1} 之中（树大小 ({self.last_good}, {cp.size}]）",
                    f"checkpoint {cp.size}: the root does not match the entries; the change "
                    f"lies in entries {self.last_good}..{cp.size - 1} "
                    f"(tree sizes ({self.last_good}, {cp.size}])",
                    seq_range=(self.last_good, cp.size),
                )
            elif signed:
                self.last_good = cp.size

    def check_consistency(self) -> None:
        """Each signed head must extend the one before, proven from the stored nodes."""
        usable = [cp for cp in self.checkpoints if 1 <= cp.size <= self.head]
        for old, new in itertools.pairwise(usable):
            try:
                proof = self.ledger.consistency_proof(self.session, old.size, new.size)
            except IntegrityFailure:
                if not self.any_missing:
                    self.add(
                        "checkpoint_consistency_unprovable",
                        f"无法从存储的节点证明检查点 {old.size} 与 {new.size} 一致",
                        f"stored nodes cannot prove checkpoints {old.size} and {new.size} "
                        "consistent",
                        seq_range=(old.size, new.size),
                    )
                continue
            if not verify_consistency(self.h, old.size, new.size, old.root, new.root, proof):
                self.add(
                    "checkpoints_inconsistent",
                    f"检查点 {new.size} 不是检查点 {old.size} 的延续",
                    f"checkpoint {new.size} does not extend checkpoint {old.size}",
                    seq_range=(old.size, new.size),
                )
