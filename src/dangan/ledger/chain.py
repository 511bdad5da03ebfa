"""Checking checkpoints a holder saved over time: each signed by the log, and each later one
an extension of the earlier (RFC 9162 consistency proofs) — so a log that was rolled back or
forked since is caught by anyone who kept its old checkpoints. Pure."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from dangan.core.errors import DanganError
from dangan.ledger.domain import HashFn, VerifyFn, verify_consistency
from dangan.ledger.note import (
    SIGNATURE_TYPES,
    CheckpointText,
    parse_checkpoint,
    parse_note,
    verify_note,
)

Proofs = Mapping[tuple[int, int], Sequence[bytes]]


def check_chain(  # noqa: PLR0917 - what a chain is checked with
    notes: Sequence[str],
    proofs: Proofs,
    public_key: bytes,
    sign_name: str,
    hash_fn: HashFn,
    verify_fn: VerifyFn,
) -> list[str]:
    """Problems with a list of signed checkpoint notes (any order); [] means they form one
    growing log. `proofs[(old, new)]` are the consistency proofs between consecutive sizes."""
    problems: list[str] = []
    parsed: list[CheckpointText] = []
    for i, text in enumerate(notes):
        try:
            note = parse_note(text)
            cp = parse_checkpoint(note.text)
        except DanganError as exc:
            problems.append(f"checkpoint {i + 1}: {exc.en}")
            continue
        if not verify_note(
            note, cp.origin, SIGNATURE_TYPES.get(sign_name, b"?"), public_key, verify_fn
        ):
            problems.append(f"checkpoint of size {cp.size}: the log's signature does not verify")
            continue
        parsed.append(cp)
    parsed.sort(key=lambda cp: cp.size)
    for old, new in itertools.pairwise(parsed):
        problems += _step(old, new, proofs, hash_fn)
    return problems


def _step(old: CheckpointText, new: CheckpointText, proofs: Proofs, hash_fn: HashFn) -> list[str]:
    where = f"{old.size} → {new.size}"
    if old.origin != new.origin:
        return [f"{where}: the checkpoints name different logs"]
    if old.size == new.size:
        return (
            []
            if old.root == new.root
            else [f"{where}: two different roots signed for one size (a fork)"]
        )
    if old.size == 0:
        return []
    proof = proofs.get((old.size, new.size))
    if proof is None:
        return [f"{where}: no consistency proof to check"]
    if not verify_consistency(hash_fn, old.size, new.size, old.root, new.root, list(proof)):
        return [f"{where}: the later tree does not extend the earlier (rolled back or forked)"]
    return []
