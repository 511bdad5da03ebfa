"""What `ledger verify` found: each problem with the positions involved, and the same
problems grouped — the first bad position, then one finding per kind and run of positions, so
one deleted entry reads as one finding and what merely follows from it says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

# Findings that are consequences of a change to an entry before them (a tree node or a
# signed root over changed entries no longer fits), not causes of their own.
CONSEQUENCES = frozenset(
    {
        "node_mismatch",
        "node_missing",
        "checkpoint_root_mismatch",
        "checkpoints_inconsistent",
        "checkpoint_consistency_unprovable",
    }
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
    copies_checked: int = 0
    receipts_checked: int = 0
    records_checked: int = 0
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

    @property
    def first_bad(self) -> int | None:
        """The first position where something is wrong, if anything is: the first entry
        named as a cause, else the start of the first range (a tree node over entries 0..7,
        or a signed root over [0, 8), is not wrong *at* 0 when entry 5 is named)."""
        causes = [p for p in self.problems if p.code not in CONSEQUENCES]
        named = [p for p in causes if p.seq is not None]
        starts = [_start(p) for p in named or causes or self.problems]
        known = [s for s in starts if s is not None]
        return min(known) if known else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "entries_checked": self.entries_checked,
            "nodes_checked": self.nodes_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "copies_checked": self.copies_checked,
            "receipts_checked": self.receipts_checked,
            "records_checked": self.records_checked,
            "first_bad": self.first_bad,
            "findings": findings(self.problems),
            "problems": [p.as_dict() for p in self.problems],
        }


def _start(p: LedgerProblem) -> int | None:
    if p.seq is not None:
        return p.seq
    return p.seq_range[0] if p.seq_range else None


def _end(p: LedgerProblem) -> int | None:
    if p.seq_range is not None:
        return p.seq_range[1]
    return p.seq + 1 if p.seq is not None else None


def findings(problems: list[LedgerProblem]) -> list[dict[str, Any]]:
    """One finding per kind of problem and run of adjacent or overlapping positions, in order
    of position; consequences of an earlier cause name it (`follows_from`)."""
    by_code: dict[str, list[LedgerProblem]] = defaultdict(list)
    for p in problems:
        by_code[p.code].append(p)
    out: list[dict[str, Any]] = []
    for code, group in by_code.items():
        placed = sorted(group, key=lambda p: (_start(p) is None, _start(p) or 0))
        current: dict[str, Any] | None = None
        for p in placed:
            start, end = _start(p), _end(p)
            if current is not None and start is not None and start <= current["seq_range"][1]:
                current["seq_range"][1] = max(current["seq_range"][1], end or start)
                current["count"] += 1
                continue
            current = {"code": code, "zh": p.zh, "en": p.en, "seq": start, "count": 1}
            current["seq_range"] = [start, end] if start is not None else None
            out.append(current)
    out.sort(key=lambda f: (f["seq"] is None, f["seq"] or 0))
    causes = [f["seq"] for f in out if f["code"] not in CONSEQUENCES and f["seq"] is not None]
    for f in out:
        if f["code"] in CONSEQUENCES and causes and f["seq_range"]:
            before = [c for c in causes if c < f["seq_range"][1]]
            if before:
                f["follows_from"] = min(before)
    return out
