"""Proof bundles: what `Ledger.prove` hands out and anyone checks with the public key alone.

A bundle carries one entry's event text, its position, the audit path to the root of a tree
and that tree's checkpoint as a C2SP signed note. Pure (standard library, core and the ledger's
own pure modules), so outside tools can run it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dangan.core.canonical import canonical_json
from dangan.core.errors import DanganError
from dangan.ledger.domain import HashFn, VerifyFn, leaf_hash, verify_inclusion
from dangan.ledger.note import SIGNATURE_TYPES, parse_checkpoint, parse_note, verify_note


def _hex_list(value: Any) -> list[bytes] | None:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        return None
    try:
        return [bytes.fromhex(x) for x in value]
    except ValueError:
        return None


def check_checkpoint_note(
    note_text: Any, public_key: bytes, verify_fn: VerifyFn, sign_name: str
) -> tuple[Any, list[str]]:
    """(origin, size, root) of a signed checkpoint note if well formed, and what is wrong."""
    if not isinstance(note_text, str):
        return None, ["the checkpoint is not a signed note"]
    try:
        note = parse_note(note_text)
        cp = parse_checkpoint(note.text)
    except DanganError as exc:
        return None, [f"the checkpoint note is malformed: {exc.en}"]
    kind = SIGNATURE_TYPES.get(sign_name)
    if kind is None or not verify_note(note, cp.origin, kind, public_key, verify_fn):
        return cp, ["checkpoint signature does not verify with the public key"]
    return cp, []


def _check_event(text: str, seq: int) -> list[str]:
    try:
        event = json.loads(text)
    except ValueError:
        return ["event is not valid JSON"]
    if canonical_json(event) != text.encode("utf-8"):
        return ["event text is not in canonical form"]
    if not isinstance(event, dict) or event.get("seq") != seq:
        return [f"event does not carry seq {seq}"]
    return []


def verify_proof_bundle(
    bundle: Mapping[str, Any],
    public_key: bytes,
    hash_fn: HashFn,
    verify_fn: VerifyFn,
    sign_name: str | None = None,
) -> list[str]:
    """Check a `Ledger.prove` bundle with the trusted public key alone; [] means it holds.

    `hash_fn`, `verify_fn(public_key, data, signature)` and `sign_name` ("sm2-sm3" or
    "ed25519") must be what the verifier trusts for this log; the names in the bundle are
    cross-checked but never pick an algorithm, so a bundle cannot downgrade its own check.
    """
    seq, size = bundle.get("seq"), bundle.get("tree_size")
    text, path = bundle.get("event"), _hex_list(bundle.get("audit_path"))
    if not isinstance(text, str) or path is None:
        return ["bundle lacks the event text or a hex audit path"]
    if not isinstance(seq, int) or not isinstance(size, int):
        return ["seq and tree_size must be integers"]
    problems: list[str] = []
    if bundle.get("public_key") not in (None, public_key.hex()):
        problems.append("the bundle names a different public key than the trusted one")
    trusted_sign = sign_name or str(bundle.get("sign"))
    if bundle.get("sign") not in (None, trusted_sign):
        problems.append("the bundle names another signature algorithm than the trusted one")
    cp, found = check_checkpoint_note(bundle.get("checkpoint"), public_key, verify_fn, trusted_sign)
    problems += found
    if cp is not None and cp.size != size:
        problems.append(f"checkpoint size {cp.size} is not the proof's tree size {size}")
    if cp is not None and bundle.get("origin") not in (None, cp.origin):
        problems.append("the bundle's origin is not the checkpoint's")
    problems += _check_event(text, seq)
    leaf = leaf_hash(hash_fn, text.encode("utf-8"))
    if bundle.get("leaf_hash") not in (None, leaf.hex()):
        problems.append("leaf_hash does not match the event")
    if cp is not None and not verify_inclusion(hash_fn, seq, size, leaf, path, cp.root):
        problems.append(f"audit path does not lead from entry {seq} to the signed root")
    return problems
