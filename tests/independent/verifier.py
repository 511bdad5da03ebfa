"""Independent verifier for transparency-log proofs, C2SP signed notes, checkpoints, cosignatures.

Written from the specifications only, and deliberately importing nothing from `dangan`:

* RFC 6962 §2.1 (Merkle Tree Hash, PATH, PROOF) and RFC 9162 §2.1.3.2 / §2.1.4.2 (verifying
  inclusion and consistency proofs), with the hash function passed in (SHA-256 or SM3);
* c2sp.org/signed-note (note format, key IDs, Ed25519 type 0x01, the 0xff escape for other types);
* c2sp.org/tlog-checkpoint (origin, tree size, root hash, extension lines);
* c2sp.org/tlog-cosignature (Ed25519 timestamped cosignatures, type 0x04);
* c2sp.org/tlog-witness (what a witness checks between two checkpoints, used by the chain check).

Every failure raises a `VerificationError` subclass naming what failed; a function that returns
has verified what its name says. Inputs from the outside (notes, proofs) are never trusted to be
well formed; the caller's configuration (keys, policies) is checked and refused with `ValueError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import gmssl_pyx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HashFunc = Callable[[bytes], bytes]
"""A hash function over bytes: `sha256` or `sm3` below (RFC 6962's HASH)."""

SignatureCheck = Callable[[bytes, bytes], bool]
"""`check(message, signature) -> bool` for one key; must return False, not raise, on garbage."""


class VerificationError(Exception):
    """Something presented for verification did not verify."""


class MalformedError(VerificationError):
    """A note, signature line, checkpoint or proof is not of the specified form."""


class SignatureError(VerificationError):
    """A signature from a known key is wrong, or no known key signed."""


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not verify."""


class ChainError(VerificationError):
    """Two checkpoints of one log are not a consistent, append-only sequence."""


# ---------------------------------------------------------------------------------------------
# Hash functions
# ---------------------------------------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    """SHA-256 (FIPS 180-4), the hash RFC 6962 §2.1 names."""
    return hashlib.sha256(data).digest()


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905-2016), the hash of the Chinese commercial-cryptography suite."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _digest_size(hash_fn: HashFunc) -> int:
    return len(hash_fn(b""))


# ---------------------------------------------------------------------------------------------
# RFC 6962 §2.1: Merkle Hash Trees
# ---------------------------------------------------------------------------------------------


def leaf_hash(data: bytes, *, hash_fn: HashFunc) -> bytes:
    """RFC 6962 §2.1: the hash of a leaf, MTH({d(0)}) = HASH(0x00 || d(0))."""
    return hash_fn(b"\x00" + data)


def node_hash(left: bytes, right: bytes, *, hash_fn: HashFunc) -> bytes:
    """RFC 6962 §2.1: an interior node, HASH(0x01 || MTH(left) || MTH(right))."""
    return hash_fn(b"\x01" + left + right)


def empty_root(*, hash_fn: HashFunc) -> bytes:
    """RFC 6962 §2.1: the hash of an empty list is the hash of an empty string, MTH({}) = HASH()."""
    return hash_fn(b"")


def _split(n: int) -> int:
    """RFC 6962 §2.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes_: Sequence[bytes], hash_fn: HashFunc) -> bytes:
    """MTH over already-hashed leaves (the recursion of RFC 6962 §2.1)."""
    n = len(hashes_)
    if n == 0:
        return empty_root(hash_fn=hash_fn)
    if n == 1:
        return hashes_[0]
    k = _split(n)
    return node_hash(_mth(hashes_[:k], hash_fn), _mth(hashes_[k:], hash_fn), hash_fn=hash_fn)


def merkle_root(leaves: Sequence[bytes], *, hash_fn: HashFunc) -> bytes:
    """RFC 6962 §2.1: the Merkle Tree Hash MTH(D[n]) of a list of leaf data (small trees only)."""
    return _mth([leaf_hash(d, hash_fn=hash_fn) for d in leaves], hash_fn)


def _path(m: int, hashes_: Sequence[bytes], hash_fn: HashFunc) -> list[bytes]:
    n = len(hashes_)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, hashes_[:k], hash_fn), _mth(hashes_[k:], hash_fn)]
    return [*_path(m - k, hashes_[k:], hash_fn), _mth(hashes_[:k], hash_fn)]


def inclusion_path(leaves: Sequence[bytes], index: int, *, hash_fn: HashFunc) -> list[bytes]:
    """RFC 6962 §2.1.1: the audit path PATH(m, D[n]) of leaf `index` (a reference generator)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    return _path(index, [leaf_hash(d, hash_fn=hash_fn) for d in leaves], hash_fn)


def _subproof(m: int, hashes_: Sequence[bytes], whole: bool, hash_fn: HashFunc) -> list[bytes]:
    n = len(hashes_)
    if m == n:
        return [] if whole else [_mth(hashes_, hash_fn)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes_[:k], whole, hash_fn), _mth(hashes_[k:], hash_fn)]
    return [*_subproof(m - k, hashes_[k:], False, hash_fn), _mth(hashes_[:k], hash_fn)]


def consistency_proof(leaves: Sequence[bytes], old_size: int, *, hash_fn: HashFunc) -> list[bytes]:
    """RFC 6962 §2.1.2: PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (a reference generator).

    Empty for m = n (RFC 6962) and for m = 0 (c2sp.org/tlog-witness: the proof from size zero
    is empty).
    """
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"old size {old_size} is outside 0..{len(leaves)}")
    if old_size == 0:
        return []
    return _subproof(old_size, [leaf_hash(d, hash_fn=hash_fn) for d in leaves], True, hash_fn)


def _check_hash_lengths(size: int, what: str, *values: bytes) -> None:
    for v in values:
        if len(v) != size:
            raise ProofError(f"{what}: a hash of {len(v)} bytes where {size} are expected")


# ---------------------------------------------------------------------------------------------
# RFC 9162 §2.1.3.2 and §2.1.4.2: verifying proofs
# ---------------------------------------------------------------------------------------------


def root_from_inclusion_proof(
    leaf_index: int,
    tree_size: int,
    leaf_hash_: bytes,
    inclusion_path_: Sequence[bytes],
    *,
    hash_fn: HashFunc,
) -> bytes:
    """RFC 9162 §2.1.3.2, steps 1-5 except the root comparison: the root the proof leads to."""
    _check_hash_lengths(_digest_size(hash_fn), "inclusion proof", leaf_hash_, *inclusion_path_)
    # 1. If leaf_index is greater than or equal to tree_size, fail.
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is not in a tree of size {tree_size}")
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. Set r to hash.
    r = leaf_hash_
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path_:
        # a. If sn is 0, stop the iteration and fail.
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r, hash_fn=hash_fn)
            # ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            # Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(r, p, hash_fn=hash_fn)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0 (the comparison of r with the root is the caller's).
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_index: int,
    tree_size: int,
    leaf_hash_: bytes,
    inclusion_path_: Sequence[bytes],
    root_hash: bytes,
    *,
    hash_fn: HashFunc,
) -> None:
    """RFC 9162 §2.1.3.2: that `leaf_hash_` is leaf `leaf_index` of the tree of `root_hash`."""
    _check_hash_lengths(_digest_size(hash_fn), "inclusion proof", root_hash)
    r = root_from_inclusion_proof(
        leaf_index, tree_size, leaf_hash_, inclusion_path_, hash_fn=hash_fn
    )
    # 5. ... If sn is equal to 0 and r and root_hash are equal, the log has proven the inclusion.
    if r != root_hash:
        raise ProofError("inclusion proof leads to another root")


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    *,
    hash_fn: HashFunc,
) -> None:
    """RFC 9162 §2.1.4.2: that the tree of `new_root` extends the tree of `old_root`.

    The RFC's algorithm covers 0 < old_size < new_size. The edges, as RFC 6962 §2.1.2 and
    c2sp.org/tlog-witness define them: equal sizes need an empty proof and equal roots; from size
    zero the proof is empty and the old root must be the empty tree's, MTH({}) = HASH().
    """
    size = _digest_size(hash_fn)
    _check_hash_lengths(size, "consistency proof", old_root, new_root, *proof)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {new_size} cannot extend one of size {old_size}")
    if old_size == 0 and old_root != empty_root(hash_fn=hash_fn):
        raise ProofError("the root of the empty tree is not HASH()")
    if old_size == new_size:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    path = list(proof)
    # 1. If consistency_path is an empty array, stop and fail.
    if not path:
        raise ProofError("empty consistency proof between different sizes")
    # 2. If first is an exact power of 2, prepend first_hash to the consistency_path array.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = old_size - 1, new_size - 1
    # 4. If LSB(fn) is set, right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # a. If sn is 0, stop the iteration and fail.
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
            fr = node_hash(c, fr, hash_fn=hash_fn)
            sr = node_hash(c, sr, hash_fn=hash_fn)
            # ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            # Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(sr, c, hash_fn=hash_fn)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


# ---------------------------------------------------------------------------------------------
# c2sp.org/signed-note
# ---------------------------------------------------------------------------------------------

SIGNATURE_PREFIX = "\u2014 "
"""signed-note §Format: a signature line starts with an em dash (U+2014) and a space."""

MAX_SIGNATURES = 100
"""signed-note §Format: verifiers SHOULD cap the signatures of a note and MUST accept 16."""

ED25519_TYPE = b"\x01"
"""signed-note §Signature types: 0x01, Ed25519 over the note text."""

COSIGNATURE_V1_TYPE = b"\x04"
"""signed-note §Signature types: 0x04, timestamped Ed25519 cosignatures (tlog-cosignature)."""

OTHER_TYPE = 0xFF
"""signed-note §Signature types: 0xff, followed by a longer identifier, for unassigned types."""


@dataclass(frozen=True)
class NoteSignature:
    """One signature line, `— <name> base64(key ID || signature)` (signed-note §Signatures)."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class Note:
    """A parsed, not yet verified, note: its text (with the final newline) and signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class NoteVerifier:
    """One trusted key: the (name, key ID) it answers to and its signature check over bytes."""

    name: str
    key_id: int
    check: SignatureCheck = field(repr=False, compare=False)


@dataclass(frozen=True)
class VerifiedNote:
    """A note whose signatures from known keys all verified (at least one did)."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def b64decode_strict(text: str) -> bytes:
    """RFC 4648 §4 standard base64, padded, and canonical (§3.5: no stray bits in the padding)."""
    if not text.isascii():
        raise MalformedError("base64 with non-ASCII characters")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as e:
        raise MalformedError(f"invalid base64: {e}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedError("non-canonical base64")
    return raw


def is_valid_key_name(name: str) -> bool:
    """signed-note §Format: key names are non-empty, without Unicode spaces or '+' (U+002B)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, signature_type: bytes, public_key: bytes) -> int:
    """signed-note §Signatures: SHA-256(key name || 0x0A || signature type || public key)[:4].

    `signature_type` is one byte, or 0xff followed by a longer identifier.
    """
    if not signature_type or (len(signature_type) > 1 and signature_type[0] != OTHER_TYPE):
        raise ValueError("a signature type is one byte, or 0xff and an identifier")
    digest = sha256(name.encode("utf-8") + b"\n" + signature_type + public_key)
    return int.from_bytes(digest[:4], "big")


def _check_note_characters(text: str) -> None:
    """signed-note §Format: no ASCII control characters other than newline."""
    for c in text:
        if c < " " and c != "\n":
            raise MalformedError(f"control character U+{ord(c):04X} in a note")


def parse_signature_line(line: str) -> NoteSignature:
    """signed-note §Format: em dash, space, key name, space, base64 of 4+n bytes (no newline)."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedError(f"not a signature line: {line[:40]!r}")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space or not is_valid_key_name(name) or not encoded:
        raise MalformedError(f"malformed signature line: {line[:40]!r}")
    raw = b64decode_strict(encoded)
    if len(raw) < 5:
        raise MalformedError("a signature is a 4-byte key ID and at least one byte")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(data: bytes, *, max_signatures: int = MAX_SIGNATURES) -> Note:
    """signed-note §Format: split a note into its text and signature lines, strictly.

    Valid UTF-8; no control characters but newline; the text (ending in a newline) is separated
    from one or more signature lines by the last blank line; every line after it is a signature
    line ending in a newline.
    """
    try:
        whole = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise MalformedError("a note is not valid UTF-8") from None
    _check_note_characters(whole)
    split = whole.rfind("\n\n")
    if split < 0:
        raise MalformedError("no blank line between the text and the signatures")
    text, block = whole[: split + 1], whole[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedError("a note ends with a signature line and its newline")
    lines = block[:-1].split("\n")
    if len(lines) > max_signatures:
        raise MalformedError(f"more than {max_signatures} signatures")
    return Note(text, tuple(parse_signature_line(line) for line in lines))


def _verifier_table(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    table: dict[tuple[str, int], NoteVerifier] = {}
    for v in verifiers:
        if not is_valid_key_name(v.name):
            raise ValueError(f"invalid key name {v.name!r}")
        if (v.name, v.key_id) in table:
            raise ValueError(f"ambiguous key {v.name}+{v.key_id:08x}")
        table[v.name, v.key_id] = v
    return table


def verify_note(data: bytes, verifiers: Iterable[NoteVerifier]) -> VerifiedNote:
    """signed-note §Signatures: verify a note against the trusted keys.

    Signatures whose (name, key ID) is not a known key are ignored, even when one of the two
    matches. A known key's signature that fails rejects the whole note (the spec's SHOULD), and a
    note with no verified signature from a known key is rejected (the spec's MUST).
    """
    table = _verifier_table(verifiers)
    note = parse_note(data)
    message = note.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in note.signatures:
        verifier = table.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if not verifier.check(message, sig.signature):
            raise SignatureError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        if sig not in verified:
            verified.append(sig)
    if not verified:
        raise SignatureError("the note has no signature from a known key")
    return VerifiedNote(note.text, tuple(verified), tuple(unverified))


def _ed25519_check(public_key: bytes) -> SignatureCheck:
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    key = Ed25519PublicKey.from_public_bytes(public_key)

    def check(message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    return check


def ed25519_verifier(name: str, public_key: bytes) -> NoteVerifier:
    """signed-note §Ed25519 signatures: type 0x01, RFC 8032 Ed25519 over the note text."""
    return NoteVerifier(name, key_id(name, ED25519_TYPE, public_key), _ed25519_check(public_key))


SM2_DEFAULT_SIGNER_ID = b"1234567812345678"
"""GB/T 35276: the default signer ID hashed into Z_A."""


def _rs_to_der(signature: bytes) -> bytes | None:
    """A raw 64-byte r || s as DER SEQUENCE { INTEGER r, INTEGER s } (X.690), or None."""
    if len(signature) != 64:
        return None

    def der_int(value: int) -> bytes:
        body = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return b"\x02" + bytes([len(body)]) + body

    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    body = der_int(r) + der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def sm2_verifier(
    name: str,
    public_key: bytes,
    *,
    signature_type: bytes,
    encoding: Literal["der", "rs"] = "der",
    signer_id: bytes = SM2_DEFAULT_SIGNER_ID,
) -> NoteVerifier:
    """A verifier for SM2-with-SM3 note signatures, a type signed-note does not assign.

    `signature_type` is 0xff followed by the identifier the log defines (signed-note §Signature
    types); the key ID hashes it with `public_key` exactly as given (its encoding is the log's
    choice: a 65-byte 04 || X || Y point, say). The signature is GB/T 32918.2 over the note text
    with Z_A from `signer_id`, DER-encoded (GB/T 35276) or as a raw 64-byte r || s.
    """
    if len(signature_type) < 2 or signature_type[0] != OTHER_TYPE:
        raise ValueError("an SM2 signature type is 0xff followed by an identifier")
    try:
        point: bytes = gmssl_pyx.normalize_sm2_public_key(bytes(public_key))
    except (gmssl_pyx.InvalidValueError, ValueError, TypeError):
        raise ValueError("not an SM2 public key") from None

    def check(message: bytes, signature: bytes) -> bool:
        der = signature if encoding == "der" else _rs_to_der(signature)
        if not der:
            return False
        try:
            return bool(gmssl_pyx.sm2_verify(point, message, der, signer_id))
        except (gmssl_pyx.GmsslInnerError, ValueError, TypeError):
            return False

    return NoteVerifier(name, key_id(name, signature_type, public_key), check)


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """A verifier key `<name>+<hex key ID>+<base64(type || public key)>` (golang.org/x/mod's note
    package, which signed-note follows), for Ed25519 (0x01) and Ed25519 cosignature (0x04) keys.

    The key ID in the string must be the one computed from the name, type and key.
    """
    name, _, rest = vkey.partition("+")
    id_hex, _, encoded = rest.partition("+")
    if not is_valid_key_name(name) or not re.fullmatch(r"[0-9a-f]{8}", id_hex):
        raise ValueError(f"malformed verifier key {vkey!r}")
    try:
        raw = b64decode_strict(encoded)
    except MalformedError as e:
        raise ValueError(f"malformed verifier key {vkey!r}: {e}") from None
    if len(raw) != 33 or raw[:1] not in (ED25519_TYPE, COSIGNATURE_V1_TYPE):
        raise ValueError(f"not an Ed25519 or cosignature/v1 verifier key: {vkey!r}")
    verifier = (
        ed25519_verifier(name, raw[1:])
        if raw[:1] == ED25519_TYPE
        else cosignature_verifier(name, raw[1:])
    )
    if verifier.key_id != int(id_hex, 16):
        raise ValueError(f"key ID {id_hex} does not match verifier key {vkey!r}")
    return verifier


# ---------------------------------------------------------------------------------------------
# c2sp.org/tlog-checkpoint
# ---------------------------------------------------------------------------------------------

_TREE_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)
MAX_TREE_SIZE = 2**64 - 1


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's note text, parsed (tlog-checkpoint §Note text)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...]
    text: str


def parse_checkpoint(text: str, *, hash_size: int | None = None) -> Checkpoint:
    """tlog-checkpoint §Note text: origin, tree size, base64 root hash, then extension lines.

    The size is ASCII decimal without leading zeros ("0" for the empty tree). Extension lines are
    kept as they are and not interpreted; each must be non-empty. With `hash_size`, the root
    hash must have that many bytes.
    """
    _check_note_characters(text)
    if not text.endswith("\n"):
        raise MalformedError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedError("a checkpoint has at least three lines")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise MalformedError("empty checkpoint origin")
    if not _TREE_SIZE.fullmatch(size_line) or int(size_line) > MAX_TREE_SIZE:
        raise MalformedError(f"invalid tree size {size_line[:30]!r}")
    root = b64decode_strict(root_line)
    if hash_size is not None and len(root) != hash_size:
        raise MalformedError(f"root hash of {len(root)} bytes where {hash_size} are expected")
    if any(not line for line in extensions):
        raise MalformedError("empty extension line")
    return Checkpoint(origin, int(size_line), root, tuple(extensions), text)


def verify_checkpoint(
    data: bytes,
    log_verifiers: Iterable[NoteVerifier],
    *,
    hash_fn: HashFunc,
    origin: str | None = None,
) -> Checkpoint:
    """A checkpoint note signed by the log (tlog-checkpoint §Signatures), parsed.

    With `origin`, the checkpoint must be that log's. The root must have the hash's size, and the
    empty tree's root must be MTH({}) = HASH() (RFC 6962 §2.1).
    """
    note = verify_note(data, log_verifiers)
    cp = parse_checkpoint(note.text, hash_size=_digest_size(hash_fn))
    if origin is not None and cp.origin != origin:
        raise MalformedError(f"checkpoint of {cp.origin!r}, not of {origin!r}")
    if cp.size == 0 and cp.root_hash != empty_root(hash_fn=hash_fn):
        raise MalformedError("the root of the empty tree is not HASH()")
    return cp


# ---------------------------------------------------------------------------------------------
# c2sp.org/tlog-cosignature (Ed25519, cosignature/v1)
# ---------------------------------------------------------------------------------------------

MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature §Format: the timestamp MUST NOT exceed 2^63 - 1."""


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """tlog-cosignature §Ed25519 signed message: the header and time lines, then the note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp} is out of range")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def split_cosignature(signature: bytes) -> tuple[int, bytes]:
    """tlog-cosignature §Format: timestamped_signature = u64 big-endian timestamp || Ed25519 sig."""
    if len(signature) != 8 + 64:
        raise MalformedError("an Ed25519 cosignature is an 8-byte timestamp and 64 bytes")
    timestamp = int.from_bytes(signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise MalformedError("cosignature timestamp exceeds 2^63 - 1")
    return timestamp, signature[8:]


def verify_cosignature(public_key: bytes, checkpoint_text: str, signature: bytes) -> int:
    """tlog-cosignature: one witness's timestamped signature on a checkpoint; its timestamp.

    `signature` is what follows the key ID in the signature line.
    """
    timestamp, ed25519_signature = split_cosignature(signature)
    message = cosignature_message(checkpoint_text, timestamp)
    if not _ed25519_check(public_key)(message, ed25519_signature):
        raise SignatureError("invalid cosignature")
    return timestamp


def cosignature_verifier(name: str, public_key: bytes) -> NoteVerifier:
    """A note verifier for a witness's cosignature/v1 key (type 0x04, tlog-cosignature §Format)."""
    check_ed25519 = _ed25519_check(public_key)

    def check(message: bytes, signature: bytes) -> bool:
        try:
            timestamp, ed25519_signature = split_cosignature(signature)
            text = message.decode("utf-8")
        except (MalformedError, UnicodeDecodeError):
            return False
        return check_ed25519(cosignature_message(text, timestamp), ed25519_signature)

    return NoteVerifier(name, key_id(name, COSIGNATURE_V1_TYPE, public_key), check)


@dataclass(frozen=True)
class Witness:
    """A trusted cosigner: its name and 32-byte Ed25519 public key."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name) or len(self.public_key) != 32:
            raise ValueError(f"a witness is a key name and a 32-byte Ed25519 key: {self.name!r}")

    @property
    def key_id(self) -> int:
        return key_id(self.name, COSIGNATURE_V1_TYPE, self.public_key)


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint signed by its log, with the witnesses whose cosignatures verified."""

    checkpoint: Checkpoint
    cosigned_at: dict[str, int]
    """Witness name -> the timestamp of its (latest valid) cosignature."""


def verify_witness_policy(
    data: bytes,
    log_verifiers: Iterable[NoteVerifier],
    witnesses: Sequence[Witness],
    threshold: int,
    *,
    hash_fn: HashFunc,
    not_after: int | None = None,
) -> CosignedCheckpoint:
    """A k-of-n policy: the log signed the checkpoint and `threshold` distinct witnesses cosigned.

    Witness signature lines are matched by (name, key ID); others are ignored. A known witness's
    cosignature that fails rejects the note (signed-note's SHOULD), as does one dated after
    `not_after` (tlog-cosignature: verifiers MAY reject timestamps in the future). Witnesses are
    distinct in name and in public key (an Ed25519 cosignature does not commit to the name, so a
    key listed twice would count twice).
    """
    if not 1 <= threshold <= len(witnesses):
        raise ValueError(f"a threshold of {threshold} of {len(witnesses)} witnesses")
    if len({w.public_key for w in witnesses}) != len(witnesses):
        raise ValueError("two witnesses of a policy share a public key")
    if len({w.name for w in witnesses}) != len(witnesses):
        raise ValueError("two witnesses of a policy share a name")
    logs = list(log_verifiers)
    by_id = {(w.name, w.key_id): w for w in witnesses}
    if {(v.name, v.key_id) for v in logs} & by_id.keys():
        raise ValueError("a key is both the log's and a witness's")
    cp = verify_checkpoint(data, logs, hash_fn=hash_fn)
    cosigned: dict[str, int] = {}
    for sig in parse_note(data).signatures:
        witness = by_id.get((sig.name, sig.key_id))
        if witness is None:
            continue
        timestamp = verify_cosignature(witness.public_key, cp.text, sig.signature)
        if not_after is not None and timestamp > not_after:
            raise SignatureError(f"cosignature of {sig.name} is dated in the future: {timestamp}")
        cosigned[witness.name] = max(timestamp, cosigned.get(witness.name, 0))
    if len(cosigned) < threshold:
        raise SignatureError(f"{len(cosigned)} of the {threshold} witness cosignatures needed")
    return CosignedCheckpoint(cp, cosigned)


# ---------------------------------------------------------------------------------------------
# A holder's chain of checkpoints (tlog-checkpoint §Signatures, tlog-witness §add-checkpoint)
# ---------------------------------------------------------------------------------------------


def verify_checkpoint_chain(
    notes: Sequence[bytes],
    proofs: Sequence[Sequence[bytes]],
    log_verifiers: Iterable[NoteVerifier],
    *,
    hash_fn: HashFunc,
    origin: str | None = None,
) -> list[Checkpoint]:
    """Checkpoints saved over time, each consistent with the one before.

    `proofs[i]` is the consistency proof from `notes[i]` to `notes[i + 1]`. Every note must be
    signed by the log; consecutive checkpoints must have the same origin, non-decreasing sizes,
    the same root for the same size, and a consistency proof that verifies (the checks a witness
    makes, c2sp.org/tlog-witness). A log must never sign two inconsistent checkpoints
    (tlog-checkpoint §Signatures): any failure here is evidence against the log, or the holder.
    """
    if len(proofs) != max(len(notes) - 1, 0):
        raise ValueError(f"{len(notes)} checkpoints need {max(len(notes) - 1, 0)} proofs")
    logs = list(log_verifiers)
    chain = [verify_checkpoint(n, logs, hash_fn=hash_fn, origin=origin) for n in notes]
    for i, proof in enumerate(proofs):
        old, new = chain[i], chain[i + 1]
        where = f"checkpoints {i} and {i + 1}"
        if new.origin != old.origin:
            raise ChainError(f"{where}: origin {old.origin!r} then {new.origin!r}")
        if new.size < old.size:
            raise ChainError(f"{where}: the tree shrank from {old.size} to {new.size}")
        if new.size == old.size and new.root_hash != old.root_hash:
            raise ChainError(f"{where}: two roots for tree size {old.size}")
        try:
            verify_consistency(
                old.size, new.size, old.root_hash, new.root_hash, proof, hash_fn=hash_fn
            )
        except ProofError as e:
            raise ChainError(f"{where}: {e}") from e
    return chain
