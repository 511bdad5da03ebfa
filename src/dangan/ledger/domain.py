"""The audit log's Merkle tree (RFC 6962 §2.1, proofs verified as RFC 9162 §2.1.3/§2.1.4).

Pure: no database. The hash function is injected (SM3 for the `sm` suite, SHA-256 for
`intl`), and tree nodes come from a `NodeGetter` so the same proof code runs over an
in-memory tree (tests, outside verifiers) and over the stored subtree hashes (the service).

Leaves are addressed by index from 0. A node (level, index) is the hash of the complete
subtree over leaves [index * 2**level, (index + 1) * 2**level); level 0 is a leaf hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from dangan.core.canonical import canonical_json
from dangan.core.errors import invalid

HashFn = Callable[[bytes], bytes]
# (level, index) -> hash of that complete subtree
NodeGetter = Callable[[int, int], bytes]
# (public_key, data, signature) -> valid?  (the order of dangan.crypto's standalone verifiers)
VerifyFn = Callable[[bytes, bytes, bytes], bool]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
BUNDLE_VERSION = 2  # 2: the checkpoint is a C2SP signed note


def leaf_hash(h: HashFn, data: bytes) -> bytes:
    return h(LEAF_PREFIX + data)


def node_hash(h: HashFn, left: bytes, right: bytes) -> bytes:
    return h(NODE_PREFIX + left + right)


def event_bytes(event: Mapping[str, Any]) -> bytes:
    """The bytes of an event that are hashed: its canonical JSON."""
    return canonical_json(dict(event))


def event_leaf_hash(h: HashFn, event: Mapping[str, Any]) -> bytes:
    return leaf_hash(h, event_bytes(event))


def split_point(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2), where RFC 6962 splits."""
    if n < 2:
        raise invalid(
            "size", "out_of_range", f"{n} 个叶的树不拆分", f"a tree of {n} leaves is not split"
        )
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def range_hash(h: HashFn, get: NodeGetter, start: int, end: int) -> bytes:
    """MTH of leaves [start, end), built from complete aligned subtrees only."""
    n = end - start
    if n <= 0:
        return h(b"")
    if _is_power_of_two(n) and start % n == 0:
        level = n.bit_length() - 1
        return get(level, start >> level)
    k = split_point(n)
    return node_hash(h, range_hash(h, get, start, start + k), range_hash(h, get, start + k, end))


def tree_root(h: HashFn, get: NodeGetter, size: int) -> bytes:
    return range_hash(h, get, 0, size)


def inclusion_path(h: HashFn, get: NodeGetter, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 §2.1.1, leaf-side first."""
    if not 0 <= index < size:
        raise invalid(
            "index",
            "out_of_range",
            f"叶 {index} 不在大小为 {size} 的树中",
            f"leaf {index} is not in a tree of size {size}",
        )

    def path(m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = split_point(n)
        if m < k:
            return [*path(m, start, k), range_hash(h, get, start + k, start + n)]
        return [*path(m - k, start + k, n - k), range_hash(h, get, start, start + k)]

    return path(index, 0, size)


def consistency_proof(h: HashFn, get: NodeGetter, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 6962 §2.1.2; empty when old == new."""
    if not 0 < old <= new:
        raise invalid(
            "old",
            "out_of_range",
            f"无法给出从大小 {old} 到大小 {new} 的一致性证明",
            f"no consistency proof from size {old} to size {new}",
        )

    def subproof(m: int, start: int, n: int, whole: bool) -> list[bytes]:
        if m == n:
            return [] if whole else [range_hash(h, get, start, start + n)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, start, k, whole), range_hash(h, get, start + k, start + n)]
        return [*subproof(m - k, start + k, n - k, False), range_hash(h, get, start, start + k)]

    return subproof(old, 0, new, True)


def verify_inclusion(  # noqa: PLR0917 - the RFC's inputs, in its order
    h: HashFn, index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(h, p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(h, r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(  # noqa: PLR0917 - the RFC's inputs, in its order
    h: HashFn, old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2. As transparency-dev/merkle, a proof from the empty tree is refused:
    it would prove nothing."""
    if old < 1 or new < old:
        return False
    if old == new:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if _is_power_of_two(old):
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(h, c, fr)
            sr = node_hash(h, c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(h, sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class TreeBuilder:
    """Streams leaf hashes in order, keeping only the O(log n) frontier of complete subtrees.

    `push` returns the nodes (level >= 1) each leaf completes: what the service stores and
    what `verify` compares with the stored ones.
    """

    def __init__(self, h: HashFn) -> None:
        self._h = h
        self._frontier: list[tuple[int, bytes]] = []  # (level, hash), levels decreasing
        self.size = 0

    @staticmethod
    def frontier_keys(size: int) -> list[tuple[int, int]]:
        """The (level, index) of the complete subtrees a tree of `size` leaves ends with."""
        return [
            (lv, (size >> lv) - 1) for lv in reversed(range(size.bit_length())) if size >> lv & 1
        ]

    @classmethod
    def resume(cls, h: HashFn, size: int, nodes: Mapping[tuple[int, int], bytes]) -> TreeBuilder:
        """A builder continuing a tree of `size` leaves, from its frontier's stored hashes."""
        builder = cls(h)
        builder._frontier = [(lv, nodes[(lv, idx)]) for lv, idx in cls.frontier_keys(size)]
        builder.size = size
        return builder

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        completed: list[tuple[int, int, bytes]] = []
        cur, level = leaf, 0
        while self._frontier and self._frontier[-1][0] == level:
            _, left = self._frontier.pop()
            cur = node_hash(self._h, left, cur)
            level += 1
            completed.append((level, self.size >> level, cur))
        self._frontier.append((level, cur))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self._frontier:
            return self._h(b"")
        r = self._frontier[-1][1]
        for _, left in reversed(self._frontier[:-1]):
            r = node_hash(self._h, left, r)
        return r


class MemoryTree:
    """All subtree hashes of a list of leaf hashes, for tests and offline tools."""

    def __init__(self, h: HashFn, leaves: Iterable[bytes] = ()) -> None:
        self.h = h
        self.levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level, index = 0, len(self.levels[0]) - 1
        while index & 1:
            parent = node_hash(self.h, self.levels[level][index - 1], self.levels[level][index])
            level, index = level + 1, index >> 1
            if len(self.levels) <= level:
                self.levels.append([])
            self.levels[level].append(parent)

    def get(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.h, self.get, self.size if size is None else size)

    def inclusion_path(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_path(self.h, self.get, index, self.size if size is None else size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(self.h, self.get, old, self.size if new is None else new)
