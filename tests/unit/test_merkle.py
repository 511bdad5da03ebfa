"""The ledger's Merkle tree against RFC 6962 vectors and as properties over all sizes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dangan.core.errors import InvalidInputError
from dangan.crypto.sm import sm3
from dangan.ledger.domain import (
    MemoryTree,
    TreeBuilder,
    event_leaf_hash,
    leaf_hash,
    node_hash,
    split_point,
    verify_consistency,
    verify_inclusion,
)
from dangan.ledger.note import CheckpointText, parse_checkpoint


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# Inputs and roots of the certificate-transparency reference tests (as republished in
# transparency-dev/merkle's test-vector generator).
CT_INPUTS = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, path)
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

CT_TREE = MemoryTree(sha256, [leaf_hash(sha256, d) for d in CT_INPUTS])


def reference_mth(h: object, leaves: list[bytes]) -> bytes:
    """MTH written straight from RFC 6962 §2.1, deliberately naive."""
    hf = sha256 if h is None else h
    assert callable(hf)
    n = len(leaves)
    if n == 0:
        return bytes(hf(b""))
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return bytes(hf(b"\x01" + reference_mth(hf, leaves[:k]) + reference_mth(hf, leaves[k:])))


def tree_of(n: int, h: object = sha256) -> MemoryTree:
    assert callable(h)
    return MemoryTree(h, [leaf_hash(h, i.to_bytes(4, "big")) for i in range(n)])


def flip(b: bytes, i: int = 0) -> bytes:
    return b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1 :]


# --- known answers ----------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_ct_roots(size: int) -> None:
    assert CT_TREE.root(size).hex() == CT_ROOTS[size]


def test_empty_root_is_hash_of_nothing() -> None:
    assert MemoryTree(sha256).root() == sha256(b"")
    assert MemoryTree(sm3).root() == sm3(b"")


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion(index: int, size: int, path: list[str]) -> None:
    assert [p.hex() for p in CT_TREE.inclusion_path(index, size)] == path
    root = bytes.fromhex(CT_ROOTS[size])
    proof = [bytes.fromhex(p) for p in path]
    assert verify_inclusion(sha256, index, size, CT_TREE.get(0, index), proof, root)


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_ct_consistency(old: int, new: int, proof: list[str]) -> None:
    assert [p.hex() for p in CT_TREE.consistency_proof(old, new)] == proof
    r1, r2 = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert verify_consistency(sha256, old, new, r1, r2, [bytes.fromhex(p) for p in proof])


def test_consistency_edge_cases() -> None:
    r1, r2 = bytes.fromhex(CT_ROOTS[1]), bytes.fromhex(CT_ROOTS[2])
    assert not verify_consistency(sha256, 0, 1, r1, r2, [])  # from the empty tree: refused
    assert not verify_consistency(sha256, 2, 1, r2, r1, [])  # time travel
    assert not verify_consistency(sha256, 1, 1, r1, r2, [])  # same size, other root
    assert not verify_consistency(sha256, 1, 1, r1, r1, [r1])  # same size, extra proof
    assert not verify_consistency(sha256, 1, 2, r1, r2, [])  # empty proof


def test_split_point() -> None:
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]


def test_out_of_range_arguments_are_invalid_input() -> None:
    with pytest.raises(InvalidInputError) as exc:
        split_point(1)
    assert exc.value.problems[0].code == "out_of_range"
    with pytest.raises(InvalidInputError) as exc:
        CT_TREE.inclusion_path(8, 8)
    assert [(p.field, p.code) for p in exc.value.problems] == [("index", "out_of_range")]
    with pytest.raises(InvalidInputError) as exc:
        CT_TREE.consistency_proof(0, 8)
    assert [(p.field, p.code) for p in exc.value.problems] == [("old", "out_of_range")]


def test_node_and_leaf_hashes_are_domain_separated() -> None:
    a, b = sha256(b"a"), sha256(b"b")
    assert leaf_hash(sha256, a + b) != node_hash(sha256, a, b)


def test_event_leaf_hash_is_over_canonical_json() -> None:
    e1 = {"type": "x", "actor": "张三", "at": "t", "seq": 0}
    e2 = {"seq": 0, "at": "t", "actor": "张三", "type": "x"}
    assert event_leaf_hash(sha256, e1) == event_leaf_hash(sha256, e2)
    expected = sha256(b'\x00{"actor":"\xe5\xbc\xa0\xe4\xb8\x89","at":"t","seq":0,"type":"x"}')
    assert event_leaf_hash(sha256, e1) == expected


def test_checkpoint_text_is_the_c2sp_three_lines() -> None:
    text = CheckpointText(origin="example.gov/dangan", size=3, root=b"\x01\x02").text()
    assert text == "example.gov/dangan\n3\nAQI=\n"
    assert parse_checkpoint(text) == CheckpointText("example.gov/dangan", 3, b"\x01\x02")


# --- properties -------------------------------------------------------------------------


@pytest.mark.parametrize("h", [sha256, sm3], ids=["sha256", "sm3"])
def test_every_inclusion_and_consistency_proof_verifies_small_trees(h: object) -> None:
    assert callable(h)
    tree = tree_of(33, h)
    for size in range(1, 34):
        root = tree.root(size)
        assert root == reference_mth(h, tree.levels[0][:size])
        for index in range(size):
            path = tree.inclusion_path(index, size)
            assert verify_inclusion(h, index, size, tree.get(0, index), path, root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            assert verify_consistency(h, old, size, tree.root(old), root, proof)


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, 600))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(1, 600))
    return draw(st.integers(1, new)), new


BIG = tree_of(600)


@settings(max_examples=300, deadline=None)
@given(index_and_size())
def test_inclusion_property(case: tuple[int, int]) -> None:
    index, size = case
    root = BIG.root(size)
    assert root == reference_mth(sha256, BIG.levels[0][:size])
    leaf = BIG.get(0, index)
    path = BIG.inclusion_path(index, size)
    assert verify_inclusion(sha256, index, size, leaf, path, root)
    # the same path proves nothing about another leaf, position or tree
    assert not verify_inclusion(sha256, index, size, flip(leaf), path, root)
    assert not verify_inclusion(sha256, index, size, leaf, path, flip(root, 31))
    if size > 1:
        other = (index + 1) % size
        assert not verify_inclusion(sha256, other, size, leaf, path, root)
        assert not verify_inclusion(sha256, index, size, BIG.get(0, other), path, root)
        assert not verify_inclusion(sha256, index, size, leaf, path[:-1], root)
    assert not verify_inclusion(sha256, index, size, leaf, [*path, root], root)
    for i in range(len(path)):
        for byte in (0, 17, 31):
            bad = [*path]
            bad[i] = flip(bad[i], byte)
            assert not verify_inclusion(sha256, index, size, leaf, bad, root)


@settings(max_examples=300, deadline=None)
@given(two_sizes())
def test_consistency_property(case: tuple[int, int]) -> None:
    old, new = case
    r1, r2 = BIG.root(old), BIG.root(new)
    proof = BIG.consistency_proof(old, new)
    assert verify_consistency(sha256, old, new, r1, r2, proof)
    if old == new:
        return
    assert not verify_consistency(sha256, old, new, flip(r1), r2, proof)
    assert not verify_consistency(sha256, old, new, r1, flip(r2), proof)
    assert not verify_consistency(sha256, old, new, r2, r1, proof)
    assert not verify_consistency(sha256, old, new, r1, r2, proof[:-1])
    assert not verify_consistency(sha256, old, new, r1, r2, [*proof, r2])
    for i in range(len(proof)):
        bad = [*proof]
        bad[i] = flip(bad[i], 5)
        assert not verify_consistency(sha256, old, new, r1, r2, bad)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200), st.data())
def test_changing_any_leaf_changes_the_root(size: int, data: st.DataObject) -> None:
    leaves = list(BIG.levels[0][:size])
    i = data.draw(st.integers(0, size - 1))
    root = reference_mth(sha256, leaves)
    leaves[i] = flip(leaves[i], data.draw(st.integers(0, 31)))
    assert MemoryTree(sha256, leaves).root() != root
    # a proof for the changed leaf does not verify against the old root
    changed = MemoryTree(sha256, leaves)
    assert not verify_inclusion(sha256, i, size, leaves[i], changed.inclusion_path(i), root)
    # and two swapped leaves change it too
    if size > 1:
        j = (i + 1) % size
        swapped = list(BIG.levels[0][:size])
        swapped[i], swapped[j] = swapped[j], swapped[i]
        assert reference_mth(sha256, swapped) != root


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 300))
def test_tree_builder_streams_same_root_and_nodes(size: int) -> None:
    builder = TreeBuilder(sha256)
    for i in range(size):
        for level, index, digest in builder.push(BIG.get(0, i)):
            assert BIG.get(level, index) == digest
    assert builder.size == size
    assert builder.root() == BIG.root(size)
