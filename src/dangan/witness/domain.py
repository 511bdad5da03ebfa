"""What a witness decides about an add-checkpoint request (c2sp.org/tlog-witness), pure.

A request body is an `old N` line, at most 63 base64 consistency-proof lines, an empty line,
then the checkpoint as a signed note. The witness answers, in the spec's order:

* the origin is not one it witnesses → `NotFoundError` (404);
* no signature by a key it trusts for that origin verifies → `PermissionDeniedError` (403);
* the old size exceeds the checkpoint's size, or the body is malformed → `MalformedInputError`
  (400);
* the old size is not the size it last cosigned → `OldSizeMismatch`, a `ConflictError` that
  carries that size (409, body `"<size>\\n"`);
* the same size as it last cosigned but another root — a fork → `ConflictError` (409);
* the consistency proof from its last root does not verify → `InvalidInputError` (422);
* otherwise it cosigns, once it has stored the new (size, root).

The statuses are those of `dangan.adapters.problems`, which maps the kinds to HTTP for the
whole of Dangan; they happen to be the ones the spec prescribes.

Signature checks and hashes are passed in (this module imports no crypto). It imports two
pure modules of the ledger, the signed-note format and the Merkle proofs, which themselves
import only the standard library and `dangan.core` (an exception named in pyproject.toml).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dangan.core.errors import (
    ConflictError,
    DanganError,
    InvalidInputError,
    MalformedInputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
)
from dangan.ledger.domain import HashFn, verify_consistency
from dangan.ledger.note import (
    SIGNATURE_TYPES,
    CheckpointText,
    Note,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)

MAX_PROOF_LINES = 63
SIGN_NAMES = tuple(SIGNATURE_TYPES)  # "ed25519", "sm2-sm3"
HASH_NAMES = ("sm3", "sha256")
# Refusals that may show the log misbehaving (validly signed, yet inconsistent): kept.
EVIDENCE_CODES = frozenset({"fork", "bad_consistency_proof"})


@dataclass
class OldSizeMismatch(ConflictError):
    """A ConflictError carrying the size the witness last cosigned (its 409 answer's body)."""

    latest_size: int = 0


@dataclass(frozen=True)
class LogKey:
    """A key the witness trusts to sign an origin's checkpoints."""

    name: str  # the key name on the signature line (usually the origin)
    sign: str  # "ed25519" or "sm2-sm3"
    public_key: bytes


@dataclass(frozen=True)
class LogConfig:
    """A log the witness watches: its origin, its tree hash and the keys that sign for it."""

    origin: str
    hash_name: str  # "sm3" or "sha256"
    keys: tuple[LogKey, ...]


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint the witness cosigned for an origin."""

    size: int
    root: bytes


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: Note
    checkpoint: CheckpointText


def _malformed(code: str, zh: str, en: str) -> MalformedInputError:
    return MalformedInputError(code=code, zh=f"请求格式有误：{zh}", en=f"malformed request: {en}")


def _old_size(line: str) -> int:
    number = line.removeprefix("old ")
    if line == number or not number.isdigit() or (number != "0" and number.startswith("0")):
        raise _malformed(
            "bad_old_size", "首行须为 “old 大小”", "the first line must be 'old <size>'"
        )
    return int(number)


def _proof_line(line: str) -> bytes:
    try:
        return base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _malformed(
            "bad_proof_line", "证明行不是 base64", "a proof line is not base64"
        ) from exc


def parse_request(body: bytes) -> AddCheckpoint:
    """An add-checkpoint body, strictly; anything off is a MalformedInputError (400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed("not_utf8", "不是 UTF-8", "the body is not UTF-8") from exc
    head, sep, rest = text.partition("\n\n")
    if not sep:
        raise _malformed("no_blank_line", "缺少空行", "no empty line before the checkpoint")
    lines = head.split("\n")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _malformed("proof_too_long", "证明超过 63 行", "more than 63 proof lines")
    old = _old_size(lines[0])
    proof = tuple(_proof_line(line) for line in lines[1:])
    try:
        note = parse_note(rest)
        checkpoint = parse_checkpoint(note.text)
    except InvalidInputError as exc:
        raise MalformedInputError(
            code="bad_checkpoint", zh=exc.zh, en=exc.en, problems=exc.problems
        ) from exc
    return AddCheckpoint(old, proof, note, checkpoint)


def check_log_signature(
    request: AddCheckpoint, log: LogConfig | None, verifier: Callable[[str], Verifier]
) -> LogConfig:
    """404 for an origin the witness does not watch; 403 unless a trusted key signed it.

    `verifier(sign_name)` gives `(public key, message, signature) -> valid?`; signatures by
    keys the witness does not trust are ignored, as the spec requires.
    """
    origin = request.checkpoint.origin
    if log is None or log.origin != origin:
        raise NotFoundError(
            code="unknown_origin",
            zh=f"本见证方不见证日志 “{origin}”",
            en=f"this witness does not witness the log '{origin}'",
        )
    for key in log.keys:
        kind = SIGNATURE_TYPES[key.sign]
        if verify_note(request.note, key.name, kind, key.public_key, verifier(key.sign)):
            return log
    raise PermissionDeniedError(
        code="no_valid_log_signature",
        zh="检查点上没有可由受信任的日志公钥验证的签名",
        en="no signature on the checkpoint verifies with a key trusted for its log",
    )


def check_growth(request: AddCheckpoint, latest: Latest | None, hash_fn: HashFn) -> None:
    """That the checkpoint extends, consistently, the one last cosigned (`latest`)."""
    old, new = request.old_size, request.checkpoint.size
    root = request.checkpoint.root
    if old > new:
        raise _malformed("old_beyond_new", "旧大小大于检查点大小", "old size exceeds the new size")
    if len(root) != len(hash_fn(b"")):
        raise _malformed("bad_root", "根哈希长度不对", "the root hash has the wrong length")
    have = latest.size if latest is not None else 0
    if old != have:
        raise OldSizeMismatch(
            code="old_size_mismatch",
            zh=f"旧大小 {old} 不是本见证方最近联署的大小 {have}",
            en=f"old size {old} is not the size this witness last cosigned, {have}",
            latest_size=have,
        )
    if latest is not None and new == latest.size and root != latest.root:
        raise ConflictError(
            code="fork",
            zh=f"大小 {new} 的检查点根哈希与已联署的不同：日志分叉",
            en=f"a checkpoint of size {new} with another root than the one cosigned: a fork",
        )
    if _consistent(hash_fn, old, new, latest, root, request.proof):
        return
    raise InvalidInputError(
        code="bad_consistency_proof",
        zh=f"从大小 {old} 到大小 {new} 的一致性证明不成立",
        en=f"the consistency proof from size {old} to size {new} does not verify",
    )


def _consistent(  # noqa: PLR0917 - the proof's inputs, in the RFC's order
    hash_fn: HashFn, old: int, new: int, latest: Latest | None, root: bytes, proof: Sequence[bytes]
) -> bool:
    if old == 0 or latest is None:
        return not proof  # nothing to be consistent with; the proof must be empty
    return verify_consistency(hash_fn, old, new, latest.root, root, proof)


def is_evidence(exc: DanganError) -> bool:
    """A refusal of a validly signed checkpoint that may prove the log misbehaved."""
    return exc.code in EVIDENCE_CODES


def trusted_log(origin: str, hash_name: str, key_name: str, sign: str, public_hex: str) -> LogKey:
    """A log key as an operator gives it, checked. SM2 keys are the 65-byte `04 || X || Y`
    of Dangan's keys.json (64-byte `X || Y` is completed), as the log's key ID hashes them."""
    problems = []
    if not origin or "\n" in origin:
        problems.append(Problem("origin", "bad_origin", "来源行不得为空", "empty origin"))
    if hash_name not in HASH_NAMES:
        problems.append(Problem("hash", "unknown_hash", "哈希须为 sm3 或 sha256", "sm3 or sha256"))
    if sign not in SIGN_NAMES:
        problems.append(Problem("sign", "unknown_sign", "须为 ed25519 或 sm2-sm3", "unknown sign"))
    try:
        key = bytes.fromhex(public_hex)
    except ValueError:
        key = b""
    if sign == "sm2-sm3" and len(key) == 64:
        key = b"\x04" + key
    if len(key) != {"ed25519": 32, "sm2-sm3": 65}.get(sign, len(key)) or not key:
        problems.append(Problem("public_key", "bad_public_key", "公钥格式不对", "bad public key"))
    if not key_name or any(ch.isspace() or ch == "+" for ch in key_name):
        problems.append(Problem("key_name", "bad_key_name", "密钥名不合规", "bad key name"))
    if problems:
        raise InvalidInputError.of(problems)
    return LogKey(key_name, sign, key)
