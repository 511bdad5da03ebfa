"""The independent verifier against published known answers, round trips and properties.

Known answers, each from a source that shares no code with Dangan:

* CT / RFC 6962 Merkle vectors: transparency-dev/merkle, `testonly/constants.go` (leaf inputs,
  node hashes, roots for sizes 0..8 of the 8-leaf tree first published with the
  certificate-transparency reference code) and `proof/verify_test.go` (inclusion and consistency
  proofs, whose leaf numbers are 1-based there and 0-based here).
* Signed notes: golang/mod, `sumdb/note/note_test.go` (TestSign, TestOpen: the PeterNeumann and
  EnochRoot keys and signatures), and the example of c2sp.org/signed-note §Verifier keys
  (example.com/foo), both checked here by the Ed25519 signatures themselves.
* The examples of C2SP signed-note.md, tlog-checkpoint.md, tlog-cosignature.md and
  tlog-witness.md, which give no public keys: parsed, and their numbers cross-checked.
* Cosignatures: transparency-dev/formats, `note/note_cosigv1_test.go` (TestCosignatureTimestamp,
  the remora.n621.de verifier key), and a real checkpoint of the arche2025h1 staging CT log
  carrying four witness cosignatures, from florolf/tlog-scales `tests/test_signing.py`; the
  witnesses' Ed25519 keys as they appear, in hex, in the Sigsum project's test witness policy.
* SM3: the two examples of GB/T 32905-2016, Appendix A.
"""

from __future__ import annotations

import ast
import base64
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.independent.verifier import (
    COSIGNATURE_V1_TYPE,
    ED25519_TYPE,
    MAX_SIGNATURES,
    ChainError,
    Checkpoint,
    HashFunc,
    MalformedError,
    NoteVerifier,
    ProofError,
    SignatureError,
    Witness,
    b64decode_strict,
    consistency_proof,
    cosignature_message,
    cosignature_verifier,
    ed25519_verifier,
    empty_root,
    inclusion_path,
    key_id,
    leaf_hash,
    merkle_root,
    node_hash,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
    parse_verifier_key,
    root_from_inclusion_proof,
    sha256,
    sm2_verifier,
    sm3,
    split_cosignature,
    verify_checkpoint,
    verify_checkpoint_chain,
    verify_consistency,
    verify_cosignature,
    verify_inclusion,
    verify_note,
    verify_witness_policy,
)

HERE = Path(__file__).parent
HASHES: dict[str, HashFunc] = {"sha256": sha256, "sm3": sm3}


def h(hex_: str) -> bytes:
    return bytes.fromhex(hex_)


# ---------------------------------------------------------------------------------------------
# Independence: nothing of Dangan is imported
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["__init__.py", "verifier.py", "test_verifier.py"])
def test_imports_nothing_from_dangan(module: str) -> None:
    tree = ast.parse((HERE / module).read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    assert not [m for m in imported if m == "dangan" or m.startswith("dangan.")]


# ---------------------------------------------------------------------------------------------
# Hash functions
# ---------------------------------------------------------------------------------------------


def test_sm3_known_answers() -> None:
    # GB/T 32905-2016, Appendix A, examples 1 and 2
    abc = h("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    abcd16 = h("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    assert sm3(b"abc") == abc
    assert sm3(b"abcd" * 16) == abcd16
    # and a second implementation agrees
    assert gmssl_pyx.sm3_hash(b"abc") == abc


def test_sha256_empty_tree() -> None:
    # RFC 6962 §2.1: MTH({}) = SHA-256()
    assert empty_root(hash_fn=sha256) == h(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle_root([], hash_fn=sha256) == empty_root(hash_fn=sha256)


# ---------------------------------------------------------------------------------------------
# RFC 6962 Merkle tree: transparency-dev/merkle testonly/constants.go, proof/verify_test.go
# ---------------------------------------------------------------------------------------------

CT_LEAVES = [
    h(x)
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
# NodeHashes(): level 0 are the leaf hashes, level 3 the root of all 8
CT_NODES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]
# RootHashes(): indexed by tree size, 0..8
CT_ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# inclusionProofs: (0-based leaf index, tree size, audit path)
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
# consistencyProofs: (size1, size2, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
# proof/verify_test.go's stand-ins for a wrong root
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_HASH = CT_ROOTS[0]


def test_ct_leaf_and_node_hashes() -> None:
    assert [leaf_hash(d, hash_fn=sha256) for d in CT_LEAVES] == CT_NODES[0]
    for level in range(1, len(CT_NODES)):
        below = CT_NODES[level - 1]
        pairs = zip(below[::2], below[1::2], strict=True)
        assert [node_hash(a, b, hash_fn=sha256) for a, b in pairs] == CT_NODES[level]


@pytest.mark.parametrize("size", range(9))
def test_ct_roots(size: int) -> None:
    assert merkle_root(CT_LEAVES[:size], hash_fn=sha256) == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion_proofs(index: int, size: int, path: list[bytes]) -> None:
    leaf = leaf_hash(CT_LEAVES[index], hash_fn=sha256)
    verify_inclusion(index, size, leaf, path, CT_ROOTS[size], hash_fn=sha256)
    assert root_from_inclusion_proof(index, size, leaf, path, hash_fn=sha256) == CT_ROOTS[size]
    # the reference generator gives the published path
    assert inclusion_path(CT_LEAVES[:size], index, hash_fn=sha256) == path


def _verifies(check: Callable[..., None], *args: object) -> bool:
    """Whether a SHA-256 proof check passes; a ProofError is a no, anything else propagates."""
    try:
        check(*args, hash_fn=sha256)
    except ProofError:
        return False
    return True


def _inclusion_probes(
    index: int, size: int, leaf: bytes, path: list[bytes], root: bytes
) -> list[tuple[str, int, int, bytes, list[bytes], bytes]]:
    """The corruptions of proof/verify_test.go's corruptInclusionProof, each of which must fail."""
    probes = [
        ("index - 1", index - 1, size, leaf, path, root),
        ("index + 1", index + 1, size, leaf, path, root),
        ("index ^ 2", index ^ 2, size, leaf, path, root),
        ("size * 2", index, size * 2, leaf, path, root),
        ("size // 2", index, size // 2, leaf, path, root),
        ("wrong leaf", index, size, b"WrongLeaf", path, root),
        ("other leaf", index, size, SOME_HASH, path, root),
        ("empty root", index, size, leaf, path, EMPTY_HASH),
        ("random root", index, size, leaf, path, SOME_HASH),
        ("trailing garbage", index, size, leaf, [*path, b""], root),
        ("trailing root", index, size, leaf, [*path, root], root),
        ("preceding garbage", index, size, leaf, [b"", *path], root),
        ("preceding root", index, size, leaf, [root, *path], root),
    ]
    for i in range(len(path)):
        flipped = [*path]
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((f"proof[{i}] bit 3", index, size, leaf, flipped, root))
    if path:
        probes.append(("removed component", index, size, leaf, path[:-1], root))
    if len(path) > 1:
        probes.append(("inserted", index, size, leaf, [path[0], SOME_HASH, *path[1:]], root))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION[1:])
def test_ct_inclusion_corruptions_fail(index: int, size: int, path: list[bytes]) -> None:
    leaf = leaf_hash(CT_LEAVES[index], hash_fn=sha256)
    probes = _inclusion_probes(index, size, leaf, path, CT_ROOTS[size])
    assert len(probes) >= 13
    verified = [
        desc for desc, i, n, lf, p, root in probes if _verifies(verify_inclusion, i, n, lf, p, root)
    ]
    assert verified == []


def test_inclusion_edges() -> None:
    one = leaf_hash(b"data", hash_fn=sha256)
    # a single leaf is its tree's root, with an empty path
    verify_inclusion(0, 1, one, [], one, hash_fn=sha256)
    for index, size, leaf, root in [
        (0, 0, SOME_HASH, EMPTY_HASH),  # nothing is in the empty tree
        (1, 0, SOME_HASH, EMPTY_HASH),
        (2, 1, one, one),  # index outside the tree
        (-1, 1, one, one),
        (0, 1, one, b""),  # hashes of the wrong size
        (0, 1, b"", one),
        (0, 1, one[:-1], one[:-1]),
        (0, 1, one, SOME_HASH),  # wrong root
    ]:
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, [], root, hash_fn=sha256)


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_ct_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof, hash_fn=sha256)
    assert consistency_proof(CT_LEAVES[:new], old, hash_fn=sha256) == proof


def _consistency_probes(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """proof/verify_test.go's corruptConsistencyProof, each of which must fail."""
    probes = [
        ("old - 1", old - 1, new, root1, root2, proof),
        ("old + 1", old + 1, new, root1, root2, proof),
        ("old ^ 2", old ^ 2, new, root1, root2, proof),
        ("new * 2", old, new * 2, root1, root2, proof),
        ("new // 2", old, new // 2, root1, root2, proof),
        ("wrong root1", old, new, b"WrongRoot", root2, proof),
        ("wrong root2", old, new, root1, b"WrongRoot", proof),
        ("other root1", old, new, SOME_HASH, root2, proof),
        ("other root2", old, new, root1, SOME_HASH, proof),
        ("swapped roots", old, new, root2, root1, proof),
        ("empty proof", old, new, root1, root2, []),
        ("trailing garbage", old, new, root1, root2, [*proof, b""]),
        ("trailing root1", old, new, root1, root2, [*proof, root1]),
        ("trailing root2", old, new, root1, root2, [*proof, root2]),
        ("preceding garbage", old, new, root1, root2, [b"", *proof]),
        ("preceding root1", old, new, root1, root2, [root1, *proof]),
        ("preceding root2", old, new, root1, root2, [root2, *proof]),
        ("preceding proof[0]", old, new, root1, root2, [proof[0], *proof]),
        ("truncated", old, new, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((f"proof[{i}] bit 4", old, new, root1, root2, flipped))
    return probes


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY[1:])
def test_ct_consistency_corruptions_fail(old: int, new: int, proof: list[bytes]) -> None:
    probes = _consistency_probes(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)
    verified = [
        desc for desc, m, n, r1, r2, p in probes if _verifies(verify_consistency, m, n, r1, r2, p)
    ]
    assert verified == []


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof", "ok"),
    [
        # always consistent: equal sizes and roots, or from the empty tree
        (0, 0, EMPTY_HASH, EMPTY_HASH, [], True),
        (0, 1, EMPTY_HASH, SOME_HASH, [], True),
        (1, 1, SOME_HASH, SOME_HASH, [], True),
        # equal sizes, different roots: a fork
        (0, 0, EMPTY_HASH, SOME_HASH, [], False),
        (1, 1, EMPTY_HASH, SOME_HASH, [], False),
        # the empty tree's root is HASH() (stricter than verify_test.go, which ignores it)
        (0, 1, SOME_HASH, SOME_HASH, [], False),
        (0, 0, SOME_HASH, SOME_HASH, [], False),
        # time travel to the past
        (1, 0, SOME_HASH, SOME_HASH, [], False),
        (2, 1, SOME_HASH, SOME_HASH, [], False),
        # an empty proof between different sizes
        (1, 2, SOME_HASH, EMPTY_HASH, [], False),
        # a proof where none may be
        (0, 0, EMPTY_HASH, EMPTY_HASH, [EMPTY_HASH], False),
        (0, 1, EMPTY_HASH, EMPTY_HASH, [EMPTY_HASH], False),
        (1, 1, EMPTY_HASH, EMPTY_HASH, [EMPTY_HASH], False),
        # hashes of the wrong size
        (1, 1, b"don't care", b"don't care", [], False),
    ],
)
def test_consistency_edges(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    if ok:
        verify_consistency(old, new, root1, root2, proof, hash_fn=sha256)
    else:
        with pytest.raises(ProofError):
            verify_consistency(old, new, root1, root2, proof, hash_fn=sha256)


# ---------------------------------------------------------------------------------------------
# Merkle properties over random trees, SHA-256 and SM3
# ---------------------------------------------------------------------------------------------

leaves_st = st.lists(st.binary(max_size=24), min_size=1, max_size=48)
hash_st = st.sampled_from(sorted(HASHES))


def _flip(value: bytes, position: int, mask: int) -> bytes:
    i = position % len(value)
    return value[:i] + bytes([value[i] ^ mask]) + value[i + 1 :]


@settings(max_examples=200, deadline=None)
@given(leaves=leaves_st, hash_name=hash_st, data=st.data())
def test_inclusion_property(leaves: list[bytes], hash_name: str, data: st.DataObject) -> None:
    hf = HASHES[hash_name]
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    root = merkle_root(leaves, hash_fn=hf)
    leaf = leaf_hash(leaves[index], hash_fn=hf)
    path = inclusion_path(leaves, index, hash_fn=hf)
    verify_inclusion(index, n, leaf, path, root, hash_fn=hf)

    # any single changed byte of the leaf hash, a path element or the root fails
    parts = [leaf, *path, root]
    which = data.draw(st.integers(0, len(parts) - 1), label="which")
    position = data.draw(st.integers(0, 31), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    parts[which] = _flip(parts[which], position, mask)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, parts[0], parts[1:-1], parts[-1], hash_fn=hf)
    # so does a path with a hash left out or one too many
    if path:
        with pytest.raises(ProofError):
            verify_inclusion(index, n, leaf, path[:-1], root, hash_fn=hf)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, leaf, [*path, root], root, hash_fn=hf)


@settings(max_examples=200, deadline=None)
@given(leaves=leaves_st, hash_name=hash_st, data=st.data())
def test_consistency_property(leaves: list[bytes], hash_name: str, data: st.DataObject) -> None:
    hf = HASHES[hash_name]
    n = len(leaves)
    m = data.draw(st.integers(1, n), label="old size")
    old_root = merkle_root(leaves[:m], hash_fn=hf)
    new_root = merkle_root(leaves, hash_fn=hf)
    proof = consistency_proof(leaves, m, hash_fn=hf)
    verify_consistency(m, n, old_root, new_root, proof, hash_fn=hf)

    parts = [old_root, *proof, new_root]
    which = data.draw(st.integers(0, len(parts) - 1), label="which")
    position = data.draw(st.integers(0, 31), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    parts[which] = _flip(parts[which], position, mask)
    with pytest.raises(ProofError):
        verify_consistency(m, n, parts[0], parts[-1], parts[1:-1], hash_fn=hf)
    if proof:
        with pytest.raises(ProofError):
            verify_consistency(m, n, old_root, new_root, proof[:-1], hash_fn=hf)
    with pytest.raises(ProofError):
        verify_consistency(m, n, old_root, new_root, [*proof, new_root], hash_fn=hf)


@settings(max_examples=50, deadline=None)
@given(leaves=leaves_st, hash_name=hash_st)
def test_every_leaf_and_every_prefix(leaves: list[bytes], hash_name: str) -> None:
    hf = HASHES[hash_name]
    n = len(leaves)
    root = merkle_root(leaves, hash_fn=hf)
    for i in range(n):
        leaf = leaf_hash(leaves[i], hash_fn=hf)
        verify_inclusion(i, n, leaf, inclusion_path(leaves, i, hash_fn=hf), root, hash_fn=hf)
    for m in range(n + 1):
        old_root = merkle_root(leaves[:m], hash_fn=hf)
        proof = consistency_proof(leaves, m, hash_fn=hf)
        verify_consistency(m, n, old_root, root, proof, hash_fn=hf)


# ---------------------------------------------------------------------------------------------
# Signed notes: golang/mod sumdb/note/note_test.go and the C2SP signed-note example
# ---------------------------------------------------------------------------------------------

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"\u2014 PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"\u2014 EnochRoot {ENOCH_B64}\n"

# c2sp.org/signed-note §Verifier keys, the example (C2SP/C2SP signed-note.md at d4c16da5)
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def sig_line(name: str, kid: int, signature: bytes) -> str:
    """A signature line as signed-note §Format writes it (the test's own signer side)."""
    encoded = base64.b64encode(kid.to_bytes(4, "big") + signature).decode()
    return f"\u2014 {name} {encoded}\n"


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign_note(text: str, signers: Sequence[tuple[str, Ed25519PrivateKey]]) -> bytes:
    lines = [
        sig_line(name, key_id(name, ED25519_TYPE, raw_public(k)), k.sign(text.encode()))
        for name, k in signers
    ]
    return (text + "\n" + "".join(lines)).encode()


def test_go_note_verifies_and_signs_byte_for_byte() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    assert (peter.name, peter.key_id) == ("PeterNeumann", 0xC74F20A3)
    note = (GO_TEXT + "\n" + PETER_SIG).encode()
    verified = verify_note(note, [peter])
    assert verified.text == GO_TEXT
    assert [(s.name, s.key_id) for s in verified.verified] == [("PeterNeumann", 0xC74F20A3)]
    assert verified.unverified == ()
    # the private key's seed (0x01 || seed) signs the same bytes: Ed25519 is deterministic
    seed = b64decode_strict(PETER_SKEY.split("+", 4)[4])
    assert seed[:1] == ED25519_TYPE
    private = Ed25519PrivateKey.from_private_bytes(seed[1:])
    assert sign_note(GO_TEXT, [("PeterNeumann", private)]) == note


def test_go_open_known_and_unknown_keys() -> None:
    peter, enoch = parse_verifier_key(PETER_VKEY), parse_verifier_key(ENOCH_VKEY)
    assert enoch.key_id == 0xAF0CFE78
    note = (GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode()
    one = verify_note(note, [peter])
    assert [s.name for s in one.verified] == ["PeterNeumann"]
    assert [s.name for s in one.unverified] == ["EnochRoot"]
    both = verify_note(note, [peter, enoch])
    assert [s.name for s in both.verified] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(SignatureError):
        verify_note(note, [])
    # the same key twice is ambiguous configuration
    with pytest.raises(ValueError, match="ambiguous"):
        verify_note(note, [enoch, peter, enoch])


def test_go_open_rejects() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    # a known key's bad signature (four characters inserted into the base64)
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureError, match=r"PeterNeumann\+c74f20a3"):
        verify_note((GO_TEXT + "\n" + bad).encode(), [peter])
    # too many signatures
    with pytest.raises(MalformedError):
        verify_note((GO_TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1)).encode(), [peter])
    # malformed notes (TestOpen's badMsgs)
    for msg in [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + f"\u2014 Bad Name {PETER_B64}",
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ]:
        with pytest.raises(MalformedError):
            verify_note(msg.encode(), [peter])
    with pytest.raises(MalformedError):
        verify_note(b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), [peter])


def test_go_duplicated_signatures_count_once() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    verified = verify_note(note.encode(), [peter])
    assert len(verified.verified) == 1
    assert [s.name for s in verified.unverified] == ["EnochRoot", "EnochRoot"]


def test_signatures_sharing_only_a_name_or_only_an_id_are_ignored() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    other_id = sig_line("PeterNeumann", 0xC74F20A4, bytes(64))
    other_name = sig_line("PeterNeuman", 0xC74F20A3, bytes(64))
    note = GO_TEXT + "\n" + other_id + other_name
    with pytest.raises(SignatureError, match="no signature from a known key"):
        verify_note(note.encode(), [peter])
    verified = verify_note((note + PETER_SIG).encode(), [peter])
    assert len(verified.unverified) == 2


def test_signed_note_spec_example() -> None:
    foo = parse_verifier_key(SPEC_VKEY)
    assert foo.key_id == 0x530D903A
    assert verify_note(SPEC_NOTE.encode(), [foo]).text == "This is an example message.\n"
    with pytest.raises(SignatureError):
        verify_note(SPEC_NOTE.replace("example message", "example massage").encode(), [foo])


@pytest.mark.parametrize(
    ("vkey", "kid"),
    [
        (PETER_VKEY, 0xC74F20A3),
        (ENOCH_VKEY, 0xAF0CFE78),
        (SPEC_VKEY, 0x530D903A),
        # transparency-dev/formats note/note_cosigv1_test.go: a '+' inside the base64, and 0x04
        ("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6", 0x7997405C),
        ("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", 0xDA77ADE7),
    ],
)
def test_key_ids(vkey: str, kid: int) -> None:
    parsed = parse_verifier_key(vkey)
    assert parsed.key_id == kid
    name, _, rest = vkey.partition("+")
    raw = b64decode_strict(rest.split("+", 1)[1])
    assert key_id(name, raw[:1], raw[1:]) == kid


def test_verifier_key_manglings_refused() -> None:
    # a sample of TestNewVerifier's: every one-character change, and truncations
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(ValueError, match="verifier key"):
            parse_verifier_key(mangled)
    for end in range(len(PETER_VKEY)):
        with pytest.raises(ValueError, match="verifier key"):
            parse_verifier_key(PETER_VKEY[:end])
    # wrong key length or unknown algorithm, with the key ID adjusted to match
    with pytest.raises(ValueError, match="verifier key"):
        parse_verifier_key(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(ValueError, match="verifier key"):
        parse_verifier_key("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_key_id_signature_type_forms() -> None:
    pk = bytes(32)
    assert key_id("a", b"\x01", pk) != key_id("a", b"\x04", pk)
    assert key_id("a", b"\xffsm2", pk) != key_id("a", b"\xffsm3", pk)
    for bad in [b"", b"\x01\x02"]:
        with pytest.raises(ValueError, match="signature type"):
            key_id("a", bad, pk)


@pytest.mark.parametrize(
    "note",
    [
        # not a canonical base64 (a stray bit in the last character before the padding)
        (GO_TEXT + "\n" + PETER_SIG.replace("JnAM=", "JnAN=")).encode(),
        # base64 without its padding
        (GO_TEXT + "\n" + PETER_SIG.replace("JnAM=", "JnAM")).encode(),
        # Unicode spaces and '+' in a key name
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter\u00a0Neumann")).encode(),
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter\u3000Neumann")).encode(),
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann")).encode(),
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "")).encode(),
        # a hyphen, or two spaces, where the em dash and one space belong
        (GO_TEXT + "\n" + PETER_SIG.replace("\u2014", "-")).encode(),
        (GO_TEXT + "\n" + PETER_SIG.replace("\u2014 ", "\u2014  ")).encode(),
        # a signature shorter than key ID and one byte
        (GO_TEXT + "\n" + sig_line("PeterNeumann", 0xC74F20A3, b"")).encode(),
        # CR is a control character; so is a tab
        (GO_TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG).encode(),
        ("a\tb\n\n" + PETER_SIG).encode(),
        # invalid UTF-8: an overlong '/', a lone surrogate
        b"\xc0\xaf\n\n" + PETER_SIG.encode(),
        b"\xed\xa0\x80\n\n" + PETER_SIG.encode(),
        # no text-signature separator
        PETER_SIG.encode(),
    ],
)
def test_parse_note_is_strict(note: bytes) -> None:
    with pytest.raises(MalformedError):
        parse_note(note)


def test_parse_note_text_may_hold_blank_lines() -> None:
    parsed = parse_note(("a\n\nb\n\n" + PETER_SIG).encode())
    assert parsed.text == "a\n\nb\n"
    assert [s.name for s in parsed.signatures] == ["PeterNeumann"]
    # the last blank line separates: a signature line before it is text
    parsed = parse_note((GO_TEXT + "\n" + PETER_SIG + "\n" + PETER_SIG).encode())
    assert parsed.text == GO_TEXT + "\n" + PETER_SIG
    assert len(parsed.signatures) == 1


def test_note_accepts_sixteen_signatures() -> None:
    keys = [(f"example.com/k{i}", Ed25519PrivateKey.generate()) for i in range(16)]
    note = sign_note("sixteen\n", keys)
    verifiers = [ed25519_verifier(name, raw_public(k)) for name, k in keys]
    assert len(verify_note(note, verifiers).verified) == 16


def test_ed25519_round_trip_and_tamper() -> None:
    key = Ed25519PrivateKey.generate()
    verifier = ed25519_verifier("archive.example/log", raw_public(key))
    note = sign_note("hello\nworld\n", [("archive.example/log", key)])
    assert verify_note(note, [verifier]).text == "hello\nworld\n"
    with pytest.raises(SignatureError):
        verify_note(note.replace(b"world", b"World"), [verifier])
    other = ed25519_verifier("archive.example/log", raw_public(Ed25519PrivateKey.generate()))
    with pytest.raises(SignatureError):  # another key of the same name: ignored, so unsigned
        verify_note(note, [other])


# ---------------------------------------------------------------------------------------------
# SM2 through the 0xff hook
# ---------------------------------------------------------------------------------------------

SM2_TYPE = b"\xff" + b"example-sm2-sm3"  # the lead defines the real identifier


def _der_to_rs(der: bytes) -> bytes:
    """r || s, 32 bytes each, from DER SEQUENCE { INTEGER r, INTEGER s } (short lengths)."""
    assert der[0] == 0x30
    out = b""
    i = 2
    for _ in range(2):
        assert der[i] == 0x02
        length = der[i + 1]
        out += int.from_bytes(der[i + 2 : i + 2 + length], "big").to_bytes(32, "big")
        i += 2 + length
    return out


@pytest.mark.parametrize("encoding", ["der", "rs"])
def test_sm2_round_trip_through_the_hook(encoding: str) -> None:
    raw_pub, private = gmssl_pyx.sm2_key_generate()
    public = b"\x04" + bytes(raw_pub)
    text = "archive.example/ledger\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    der = bytes(gmssl_pyx.sm2_sign(private, raw_pub, text.encode(), b"1234567812345678"))
    signature = der if encoding == "der" else _der_to_rs(der)
    name = "archive.example/ledger"
    kid = key_id(name, SM2_TYPE, public)
    note = (text + "\n" + sig_line(name, kid, signature)).encode()
    verifier = sm2_verifier(
        name,
        public,
        signature_type=SM2_TYPE,
        encoding="der" if encoding == "der" else "rs",
    )
    assert verifier.key_id == kid
    assert verify_note(note, [verifier]).text == text
    with pytest.raises(SignatureError):
        verify_note(note.replace(b"\n3\n", b"\n4\n"), [verifier])
    # another signer ID is another Z_A, so another signature
    other = sm2_verifier(name, public, signature_type=SM2_TYPE, signer_id=b"someone else")
    with pytest.raises(SignatureError):
        verify_note(note, [other])


def test_sm2_hook_refuses_bad_configuration() -> None:
    raw_pub, _ = gmssl_pyx.sm2_key_generate()
    with pytest.raises(ValueError, match="signature type"):
        sm2_verifier("a", b"\x04" + bytes(raw_pub), signature_type=b"\x01")
    with pytest.raises(ValueError, match="SM2 public key"):
        sm2_verifier("a", b"\x04" + bytes(32), signature_type=SM2_TYPE)


# ---------------------------------------------------------------------------------------------
# Checkpoints: c2sp.org/tlog-checkpoint
# ---------------------------------------------------------------------------------------------

SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_tlog_checkpoint_example() -> None:
    # tlog-checkpoint.md's example; its signer's key is not published
    note = parse_note(
        (
            SOFA_TEXT + "\n\u2014 example.com/behind-the-sofa "
            "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        ).encode()
    )
    cp = parse_checkpoint(note.text, hash_size=32)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert [(s.name, s.key_id, len(s.signature)) for s in note.signatures] == [
        ("example.com/behind-the-sofa", 0x033DE0AE, 64)
    ]


def test_checkpoint_extension_lines_kept() -> None:
    cp = parse_checkpoint(SOFA_TEXT + "ext one\n\u4e00 two\n")
    assert cp.extensions == ("ext one", "\u4e00 two")
    assert cp.text == SOFA_TEXT + "ext one\n\u4e00 two\n"


ROOT_LINE = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    "text",
    [
        f"o\n01\n{ROOT_LINE}\n",  # leading zero
        f"o\n00\n{ROOT_LINE}\n",
        f"o\n+1\n{ROOT_LINE}\n",
        f"o\n 1\n{ROOT_LINE}\n",
        f"o\n1 \n{ROOT_LINE}\n",
        f"o\n1_000\n{ROOT_LINE}\n",
        f"o\n\u0661\n{ROOT_LINE}\n",  # an Arabic-Indic digit one
        f"o\n-1\n{ROOT_LINE}\n",
        f"o\n{2**64}\n{ROOT_LINE}\n",  # beyond uint64
        f"o\n\n{ROOT_LINE}\n",
        f"\n1\n{ROOT_LINE}\n",  # empty origin
        "o\n1\n",  # two lines
        f"o\n1\n{ROOT_LINE}",  # no final newline
        f"o\n1\n{ROOT_LINE}\n\n",  # empty extension line
        f"o\n1\n{ROOT_LINE}\next\n\n",
        "o\n1\nnot base64!\n",
        f"o\n1\n{ROOT_LINE[:-2]}\n",
        f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n",  # 31-byte root
        f"o\x00\n1\n{ROOT_LINE}\n",
    ],
)
def test_checkpoint_parse_is_strict(text: str) -> None:
    with pytest.raises(MalformedError):
        parse_checkpoint(text, hash_size=32)


def test_checkpoint_sizes() -> None:
    assert parse_checkpoint(f"o\n0\n{ROOT_LINE}\n").size == 0
    assert parse_checkpoint(f"o\n{2**64 - 1}\n{ROOT_LINE}\n").size == 2**64 - 1


def test_verify_checkpoint() -> None:
    key = Ed25519PrivateKey.generate()
    log = ed25519_verifier("archive.example/log", raw_public(key))
    empty = base64.b64encode(empty_root(hash_fn=sm3)).decode()
    cp = verify_checkpoint(
        sign_note(f"archive.example/log\n0\n{empty}\n", [("archive.example/log", key)]),
        [log],
        hash_fn=sm3,
        origin="archive.example/log",
    )
    assert cp.size == 0
    with pytest.raises(MalformedError):  # another log's checkpoint
        verify_checkpoint(
            sign_note(f"elsewhere\n0\n{empty}\n", [("archive.example/log", key)]),
            [log],
            hash_fn=sm3,
            origin="archive.example/log",
        )
    with pytest.raises(MalformedError):  # an empty tree whose root is not HASH()
        verify_checkpoint(
            sign_note(f"archive.example/log\n0\n{ROOT_LINE}\n", [("archive.example/log", key)]),
            [log],
            hash_fn=sm3,
        )


# ---------------------------------------------------------------------------------------------
# Cosignatures: c2sp.org/tlog-cosignature
# ---------------------------------------------------------------------------------------------


def test_cosignature_spec_example() -> None:
    # tlog-cosignature.md: the example's signed message, and its cosignature's timestamp
    assert cosignature_message(SOFA_TEXT, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    line = (
        "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
        "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    sig = parse_signature_line(line)
    assert (sig.name, sig.key_id) == ("witness.example.com/w1", 0x8D66CF3F)
    assert split_cosignature(sig.signature)[0] == 1679315147


def test_tlog_witness_example_lines_parse() -> None:
    # tlog-witness.md, add-checkpoint's example response body
    body = (
        "\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZT"
        "SvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
        "\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt"
        "64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
        "\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrr"
        "KbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
    )
    note = parse_note((SOFA_TEXT + "\n" + body).encode())
    assert [s.name for s in note.signatures] == ["witness.example/w1"] * 2 + ["witness.example/w2"]
    assert all(len(s.signature) == 72 for s in note.signatures)


def test_formats_cosignature_timestamps() -> None:
    # transparency-dev/formats note/note_cosigv1_test.go, TestCosignatureTimestamp
    works = b64decode_strict(
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFi"
        "EBYJXORmnFBOBA=="
    )
    assert split_cosignature(works[4:])[0] == 1727964367
    wrong_type = b64decode_strict(
        "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xk"
        "NQY="
    )
    with pytest.raises(MalformedError):
        split_cosignature(wrong_type[4:])


# A real checkpoint, cosigned by four witnesses (florolf/tlog-scales tests/test_signing.py)
ARCHE_SIGNATURES = [
    (
        "arche2025h1.staging.ct.transparency.dev",
        "zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJX"
        "Fbon5Ch9MNL5zRNZ55lvGt0=",
    ),
    (
        "arche2025h1.staging.ct.transparency.dev",
        "ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=",
    ),
    (
        "transparency.dev/DEV:witness-little-garden",
        "2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdg"
        "JY096st5BQ==",
    ),
    (
        "witness1.smartit.nu/witness1",
        "pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0X"
        "wzdZsDsUAQ==",
    ),
    (
        "remora.n621.de",
        "2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxt"
        "qB0DrAWfBw==",
    ),
    (
        "witness.stagemole.eu",
        "Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKF"
        "Ye/TmN9DAg==",
    ),
]
ARCHE_NOTE = (
    "arche2025h1.staging.ct.transparency.dev\n1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n\n"
    + "".join(f"\u2014 {name} {sig}\n" for name, sig in ARCHE_SIGNATURES)
).encode()
ARCHE_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
# the Sigsum project's test witness policy lists these Ed25519 keys in hex
REAL_WITNESSES = [
    Witness(
        "transparency.dev/DEV:witness-little-garden",
        h("2b6eb0ec483503544cde4e8fc1ce6d1921db21dffccc186865f808f7625443cc"),
    ),
    Witness(
        "witness1.smartit.nu/witness1",
        h("f4855a0f46e8a3e23bb40faf260ee57ab8a18249fa402f2ca2d28a60e1a3130e"),
    ),
    Witness(
        "remora.n621.de", h("ebcdeb78e7fdb2ef9227b2c1ef11e94600b55b4d6d9a57877e31ee89e59adc36")
    ),
    Witness(
        "witness.stagemole.eu",
        h("4a921b7caef58ae670cdc11ef4184f1c058f7b9259a9107a969f69fa54aa496f"),
    ),
]


def test_real_cosigned_checkpoint() -> None:
    log = parse_verifier_key(ARCHE_LOG_VKEY)
    # the same key IDs as the vkeys carry (remora's: transparency-dev/formats)
    assert [w.key_id for w in REAL_WITNESSES] == [0xD8042A87, 0xA48C820F, 0xDA77ADE7, 0x67F7AEA0]
    result = verify_witness_policy(ARCHE_NOTE, [log], REAL_WITNESSES, 4, hash_fn=sha256)
    assert result.checkpoint.size == 1432088532
    assert set(result.cosigned_at.values()) == {1779573024}
    # the type 0x05 signature of the same name is of an unknown key, and ignored
    verified = verify_note(ARCHE_NOTE, [log])
    assert verified.unverified[0].key_id == 0xCD333CB1
    assert [s.name for s in verified.unverified[1:]] == [w.name for w in REAL_WITNESSES]
    # the cosignatures also verify as note signatures of type 0x04 keys
    witnesses = [cosignature_verifier(w.name, w.public_key) for w in REAL_WITNESSES]
    assert len(verify_note(ARCHE_NOTE, witnesses).verified) == 4
    # and nothing verifies once the tree size is changed
    forged = ARCHE_NOTE.replace(b"1432088532", b"1432088533")
    with pytest.raises(SignatureError):
        verify_witness_policy(forged, [log], REAL_WITNESSES, 1, hash_fn=sha256)
    with pytest.raises(SignatureError):
        verify_note(forged, witnesses[:1])


def _cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    signature = key.sign(cosignature_message(text, timestamp))
    kid = key_id(name, COSIGNATURE_V1_TYPE, raw_public(key))
    return sig_line(name, kid, timestamp.to_bytes(8, "big") + signature)


class Scene:
    """A log and three witnesses, with keys made for the test."""

    def __init__(self) -> None:
        self.log_key = Ed25519PrivateKey.generate()
        self.log = ed25519_verifier("archive.example/log", raw_public(self.log_key))
        self.keys = [Ed25519PrivateKey.generate() for _ in range(3)]
        self.names = [f"witness.example/w{i}" for i in range(3)]
        self.witnesses = [
            Witness(n, raw_public(k)) for n, k in zip(self.names, self.keys, strict=True)
        ]
        root = base64.b64encode(sha256(b"x")).decode()
        self.text = f"archive.example/log\n5\n{root}\n"

    def note(self, *cosignatures: str) -> bytes:
        signed = sign_note(self.text, [("archive.example/log", self.log_key)])
        return signed + "".join(cosignatures).encode()

    def cosign(self, i: int, timestamp: int = 1_700_000_000) -> str:
        return _cosign(self.text, self.names[i], self.keys[i], timestamp)


def test_cosignature_round_trip() -> None:
    s = Scene()
    sig = parse_signature_line(s.cosign(1, 42).rstrip("\n"))
    assert verify_cosignature(s.witnesses[1].public_key, s.text, sig.signature) == 42
    with pytest.raises(SignatureError):  # another witness's key
        verify_cosignature(s.witnesses[0].public_key, s.text, sig.signature)
    with pytest.raises(SignatureError):  # another time
        verify_cosignature(
            s.witnesses[1].public_key, s.text, (43).to_bytes(8, "big") + sig.signature[8:]
        )
    with pytest.raises(SignatureError):  # another checkpoint
        verify_cosignature(s.witnesses[1].public_key, s.text + "ext\n", sig.signature)


def test_cosignature_covers_extension_lines() -> None:
    key = Ed25519PrivateKey.generate()
    text = f"o\n1\n{ROOT_LINE}\nExtendo\n"
    sig = parse_signature_line(_cosign(text, "w", key, 7).rstrip("\n"))
    assert verify_cosignature(raw_public(key), text, sig.signature) == 7
    with pytest.raises(SignatureError):
        verify_cosignature(raw_public(key), text.replace("Extendo", "Extend@"), sig.signature)


def test_k_of_n_policy() -> None:
    s = Scene()
    ok = verify_witness_policy(
        s.note(s.cosign(0, 10), s.cosign(2, 20)), [s.log], s.witnesses, 2, hash_fn=sha256
    )
    assert ok.cosigned_at == {s.names[0]: 10, s.names[2]: 20}
    # one is not two, even when it signed three times
    with pytest.raises(SignatureError, match="1 of the 2"):
        verify_witness_policy(
            s.note(s.cosign(0), s.cosign(0, 11), s.cosign(0, 12)),
            [s.log],
            s.witnesses,
            2,
            hash_fn=sha256,
        )
    # cosignatures of unknown witnesses do not count
    stranger = _cosign(s.text, "witness.example/w9", Ed25519PrivateKey.generate(), 1)
    with pytest.raises(SignatureError):
        verify_witness_policy(
            s.note(s.cosign(0), stranger), [s.log], s.witnesses, 2, hash_fn=sha256
        )
    # a known witness's bad cosignature rejects the note
    bad = _cosign(s.text + "x\n", s.names[1], s.keys[1], 1)
    with pytest.raises(SignatureError, match="invalid cosignature"):
        verify_witness_policy(
            s.note(s.cosign(0), s.cosign(2), bad), [s.log], s.witnesses, 2, hash_fn=sha256
        )
    # a cosignature from the future
    with pytest.raises(SignatureError, match="future"):
        verify_witness_policy(
            s.note(s.cosign(0, 100), s.cosign(1, 101)),
            [s.log],
            s.witnesses,
            2,
            hash_fn=sha256,
            not_after=100,
        )
    # without the log's own signature, cosignatures are worth nothing
    unsigned = (s.text + "\n" + s.cosign(0) + s.cosign(1) + s.cosign(2)).encode()
    with pytest.raises(SignatureError):
        verify_witness_policy(unsigned, [s.log], s.witnesses, 1, hash_fn=sha256)


def test_k_of_n_policy_configuration() -> None:
    s = Scene()
    note = s.note(s.cosign(0))
    for threshold in (0, 4):
        with pytest.raises(ValueError, match="threshold"):
            verify_witness_policy(note, [s.log], s.witnesses, threshold, hash_fn=sha256)
    twice = [*s.witnesses[:2], Witness("witness.example/again", s.witnesses[0].public_key)]
    with pytest.raises(ValueError, match="public key"):
        verify_witness_policy(note, [s.log], twice, 2, hash_fn=sha256)
    same_name = [*s.witnesses[:2], Witness(s.names[0], raw_public(Ed25519PrivateKey.generate()))]
    with pytest.raises(ValueError, match="name"):
        verify_witness_policy(note, [s.log], same_name, 2, hash_fn=sha256)
    as_witness = Witness(s.log.name, raw_public(s.log_key))
    # the log's Ed25519 key as a cosigner has another key ID (type 0x04), so it is allowed
    assert as_witness.key_id != s.log.key_id
    with pytest.raises(ValueError, match="witness"):
        Witness(s.names[0], bytes(31))
    with pytest.raises(ValueError, match="witness"):
        Witness(s.names[0] + " x", bytes(32))
    collides = NoteVerifier(s.names[0], s.witnesses[0].key_id, s.log.check)
    with pytest.raises(ValueError, match="both"):
        verify_witness_policy(note, [s.log, collides], s.witnesses, 1, hash_fn=sha256)


# ---------------------------------------------------------------------------------------------
# A holder's chain of checkpoints
# ---------------------------------------------------------------------------------------------

ORIGIN = "archive.example/ledger"


class Log:
    """A log made in the test: leaves, a key, and signed checkpoints of its prefixes."""

    def __init__(self, hash_fn: HashFunc, leaves: list[bytes], origin: str = ORIGIN) -> None:
        self.hash_fn, self.leaves, self.origin = hash_fn, leaves, origin
        self.key = Ed25519PrivateKey.generate()
        self.verifier = ed25519_verifier(ORIGIN, raw_public(self.key))

    def checkpoint(self, size: int, *, leaves: list[bytes] | None = None) -> bytes:
        root = merkle_root((leaves or self.leaves)[:size], hash_fn=self.hash_fn)
        text = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        return sign_note(text, [(ORIGIN, self.key)])

    def proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(self.leaves[:new], old, hash_fn=self.hash_fn)


SIZES = [0, 1, 3, 3, 8, 13]


def _chain(log: Log, sizes: Sequence[int]) -> tuple[list[bytes], list[list[bytes]]]:
    notes = [log.checkpoint(n) for n in sizes]
    proofs = [log.proof(a, b) for a, b in itertools.pairwise(sizes)]
    return notes, proofs


@pytest.fixture(params=sorted(HASHES))
def log(request: pytest.FixtureRequest) -> Log:
    hash_name: str = request.param
    return Log(HASHES[hash_name], [f"event {i}".encode() for i in range(13)])


def test_chain_verifies(log: Log) -> None:
    notes, proofs = _chain(log, SIZES)
    chain = verify_checkpoint_chain(notes, proofs, [log.verifier], hash_fn=log.hash_fn)
    assert [cp.size for cp in chain] == SIZES
    assert all(isinstance(cp, Checkpoint) for cp in chain)
    assert verify_checkpoint_chain(notes[:1], [], [log.verifier], hash_fn=log.hash_fn)
    assert verify_checkpoint_chain([], [], [log.verifier], hash_fn=log.hash_fn) == []


def test_chain_rejects_a_shrinking_tree(log: Log) -> None:
    notes = [log.checkpoint(8), log.checkpoint(3)]
    with pytest.raises(ChainError, match="shrank"):
        verify_checkpoint_chain(notes, [[]], [log.verifier], hash_fn=log.hash_fn)


def test_chain_rejects_another_origin(log: Log) -> None:
    other = Log(log.hash_fn, log.leaves, origin="archive.example/other")
    other.key = log.key
    notes = [log.checkpoint(3), other.checkpoint(8)]
    with pytest.raises(ChainError, match="origin"):
        verify_checkpoint_chain(notes, [log.proof(3, 8)], [log.verifier], hash_fn=log.hash_fn)
    with pytest.raises(MalformedError):
        verify_checkpoint_chain(
            notes, [log.proof(3, 8)], [log.verifier], hash_fn=log.hash_fn, origin=ORIGIN
        )


def test_chain_rejects_a_fork(log: Log) -> None:
    forked = [*log.leaves[:2], b"rewritten", *log.leaves[3:]]
    # two roots for one size
    notes = [log.checkpoint(3), log.checkpoint(3, leaves=forked)]
    with pytest.raises(ChainError, match="two roots"):
        verify_checkpoint_chain(notes, [[]], [log.verifier], hash_fn=log.hash_fn)
    # a later tree that does not contain the earlier one
    notes = [log.checkpoint(3), log.checkpoint(8, leaves=forked)]
    fork_proof = consistency_proof(forked[:8], 3, hash_fn=log.hash_fn)
    for proof in (log.proof(3, 8), fork_proof):
        with pytest.raises(ChainError):
            verify_checkpoint_chain(notes, [proof], [log.verifier], hash_fn=log.hash_fn)


def test_chain_rejects_a_bad_proof(log: Log) -> None:
    notes, proofs = _chain(log, SIZES)
    proofs[3] = [_flip(proofs[3][0], 0, 1), *proofs[3][1:]]
    with pytest.raises(ChainError, match="checkpoints 3 and 4"):
        verify_checkpoint_chain(notes, proofs, [log.verifier], hash_fn=log.hash_fn)
    proofs[3] = []
    with pytest.raises(ChainError):
        verify_checkpoint_chain(notes, proofs, [log.verifier], hash_fn=log.hash_fn)


def test_chain_rejects_bad_signatures_and_shapes(log: Log) -> None:
    notes, proofs = _chain(log, SIZES)
    stranger = Log(log.hash_fn, log.leaves)
    with pytest.raises(SignatureError):
        verify_checkpoint_chain(
            [*notes[:2], stranger.checkpoint(3), *notes[3:]],
            proofs,
            [log.verifier],
            hash_fn=log.hash_fn,
        )
    with pytest.raises(ValueError, match="proofs"):
        verify_checkpoint_chain(notes, proofs[:-1], [log.verifier], hash_fn=log.hash_fn)


def test_chain_with_the_other_hash_fails(log: Log) -> None:
    notes, proofs = _chain(log, [1, 8, 13])
    other: Callable[[bytes], bytes] = sm3 if log.hash_fn is sha256 else sha256
    with pytest.raises(ChainError):
        verify_checkpoint_chain(notes, proofs, [log.verifier], hash_fn=other)
