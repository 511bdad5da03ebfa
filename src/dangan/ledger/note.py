"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature).

A checkpoint's note text is three lines — origin, tree size, base64 root — and each signature
line is `— <key name> base64(key ID || signature)`. The log signs with its suite's key: Ed25519
(signature type 0x01, as the spec defines it) or SM2 with SM3 (type 0xff followed by the
identifier `dangan/sm2-sm3`, the spec's escape for algorithms it assigns no byte to). Witnesses
add Ed25519 cosignatures (type 0x04) over `cosignature/v1`, a time line and the note text.

Pure: the signing and verifying functions are passed in, so outside verifiers and tests use
the same parser without any of Dangan's keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dangan.core.errors import invalid

EM_DASH = "\u2014"
ED25519 = b"\x01"
COSIGNATURE_V1 = b"\x04"
SM2_SM3 = b"\xff" + b"dangan/sm2-sm3"
SIGNATURE_TYPES = {"ed25519": ED25519, "sm2-sm3": SM2_SM3}
MAX_SIGNATURES = 32
_NAME = re.compile(r"^[^\s+]+$")
# (public key, message, signature) -> valid?
Verifier = Callable[[bytes, bytes, bytes], bool]


def _bad(code: str, zh: str, en: str) -> Exception:
    return invalid("note", code, f"签名注记无效：{zh}", f"invalid signed note: {en}")


def key_id(name: str, signature_type: bytes, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + signature_type + public_key).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{EM_DASH} {self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends with a newline; what every signature covers
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, more: Iterable[NoteSignature]) -> Note:
        """The note with `more` added, skipping exact duplicates."""
        have = list(self.signatures)
        for s in more:
            if s not in have:
                have.append(s)
        return Note(self.text, tuple(have))

    def by(self, name: str, kid: bytes) -> list[NoteSignature]:
        return [s for s in self.signatures if s.name == name and s.key_id == kid]


def _signature_line(line: str) -> NoteSignature:
    if not line.startswith(EM_DASH + " "):
        raise _bad("not_a_signature", "签名行须以 “— ” 开头", "signature lines start with '— '")
    parts = line[2:].split(" ")
    if len(parts) != 2 or not parts[0] or not _NAME.match(parts[0]):
        raise _bad("bad_signature_line", "签名行格式有误", "a signature line is malformed")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("bad_base64", "签名不是 base64", "a signature is not base64") from exc
    if len(blob) < 5:
        raise _bad("short_signature", "签名过短", "a signature is too short")
    return NoteSignature(parts[0], blob[:4], blob[4:])


def parse_note(data: str) -> Note:
    """A signed note, strictly: text ending in a newline, a blank line, signature lines."""
    if any(ord(ch) < 0x20 and ch != "\n" for ch in data) or not data.endswith("\n"):
        raise _bad(
            "control_characters",
            "含控制字符或未以换行结尾",
            "control characters or no final newline",
        )
    cut = data.rfind("\n\n")
    if cut < 0:
        raise _bad("no_signatures", "缺少空行与签名", "no blank line before the signatures")
    text, lines = data[: cut + 1], data[cut + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise _bad("signature_count", "签名数量不对", "no signatures, or too many")
    return Note(text, tuple(_signature_line(line) for line in lines))


@dataclass(frozen=True)
class CheckpointText:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def parse_checkpoint(text: str) -> CheckpointText:
    """Origin, size and root of a checkpoint's note text (extension lines are ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
        raise _bad(
            "bad_checkpoint", "检查点正文须为三行以上非空行", "a checkpoint is three or more lines"
        )
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise _bad("bad_size", "树大小须为十进制数", "the tree size must be a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("bad_root", "根哈希不是 base64", "the root hash is not base64") from exc
    return CheckpointText(origin, int(size), digest)


def sign_note(
    text: str, name: str, signature_type: bytes, public_key: bytes, sign: Callable[[bytes], bytes]
) -> Note:
    kid = key_id(name, signature_type, public_key)
    return Note(text, (NoteSignature(name, kid, sign(text.encode("utf-8"))),))


def verify_note(
    note: Note, name: str, signature_type: bytes, public_key: bytes, verify: Verifier
) -> bool:
    """True if `note` carries a valid signature by this key — and none by it that fails."""
    mine = note.by(name, key_id(name, signature_type, public_key))
    message = note.text.encode("utf-8")
    return bool(mine) and all(verify(public_key, message, s.signature) for s in mine)


def cosignature_message(timestamp: int, text: str) -> bytes:
    """What an Ed25519 witness signs (c2sp.org/tlog-cosignature, v1)."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(
    text: str, name: str, public_key: bytes, timestamp: int, sign: Callable[[bytes], bytes]
) -> NoteSignature:
    signature = sign(cosignature_message(timestamp, text))
    kid = key_id(name, COSIGNATURE_V1, public_key)
    return NoteSignature(name, kid, struct.pack(">Q", timestamp) + signature)


def verify_cosignature(note: Note, name: str, public_key: bytes, verify: Verifier) -> int | None:
    """The timestamp of a valid cosignature by this witness on `note`, else None."""
    for s in note.by(name, key_id(name, COSIGNATURE_V1, public_key)):
        if len(s.signature) != 8 + 64:
            continue
        (timestamp,) = struct.unpack(">Q", s.signature[:8])
        if verify(public_key, cosignature_message(timestamp, note.text), s.signature[8:]):
            return int(timestamp)
    return None


def witnessed_by(note: Note, witnesses: Mapping[str, bytes], verify: Verifier) -> set[str]:
    """The names of the witnesses (name → Ed25519 public key) whose cosignature verifies."""
    return {
        n for n, key in witnesses.items() if verify_cosignature(note, n, key, verify) is not None
    }


def check_witnessed(
    note: Note, witnesses: Mapping[str, bytes], k: int, verify: Verifier
) -> list[str]:
    """What keeps `note` from being cosigned by `k` of `witnesses` (name → Ed25519 public
    key); [] means it holds. A cosignature that carries a trusted witness's name and key ID
    but fails to verify is a problem even when `k` others hold (c2sp.org/signed-note)."""
    problems = []
    if k > len(witnesses):
        problems.append(f"the quorum {k} exceeds the {len(witnesses)} witnesses trusted")
    good = []
    for name, key in sorted(witnesses.items()):
        mine = note.by(name, key_id(name, COSIGNATURE_V1, key))
        valid = [verify_cosignature(Note(note.text, (s,)), name, key, verify) for s in mine]
        if any(t is None for t in valid):
            problems.append(f"a cosignature by witness {name} does not verify")
        elif valid:
            good.append(name)
    if len(good) < k:
        named = ", ".join(good) or "none"
        problems.append(
            f"{len(good)} of {len(witnesses)} trusted witnesses cosigned ({named}); {k} required"
        )
    return problems
