"""Verification of the whole log: recompute every entry, node and signed checkpoint and name
what does not fit — by position where one entry is at fault, by range where only a range can
be named.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.errors import IntegrityFailure
from dangan.ledger.checkpoints import signed_by
from dangan.ledger.domain import TreeBuilder, leaf_hash, verify_consistency
from dangan.ledger.models import LedgerEntry, LedgerNode
from dangan.ledger.report import LedgerProblem, VerifyReport
from dangan.ledger.store import Ledger


def _no_float(token: str) -> Any:
    raise ValueError(f"canonical JSON takes no floats ({token[:20]})")


# Made once: `json.loads`/`dumps` with options build a new decoder/encoder per call.
_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)
# `canonical_json`'s form; floats are refused while parsing, so values need no second walk.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify_log(ledger: Ledger, session: Session, batch: int = 2000) -> VerifyReport:
    """One pass over the log in `session`, `batch` entries at a time."""
    return _Verifier(ledger, session, batch).run()


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
        self.matched: set[int] = set()  # sizes of checkpoints whose root the entries give
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
            event = _DECODER.decode(text)
            if _CANONICAL.encode(event) != text:
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
            signed = signed_by(self.ledger.suite, cp)
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
            root = self.builder.root()
            if root == cp.root:
                self.matched.add(cp.size)
            if root != cp.root:
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
        """Each signed head must extend the one before, proven from the stored nodes. Two
        heads whose roots both matched the recomputed tree extend each other by construction;
        only pairs with a head that did not are proven (one proof each, from the nodes)."""
        usable = [cp for cp in self.checkpoints if 1 <= cp.size <= self.head]
        for old, new in itertools.pairwise(usable):
            if old.size in self.matched and new.size in self.matched:
                continue
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
