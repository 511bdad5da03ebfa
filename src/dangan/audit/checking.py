"""Checks an outsider runs with the log's public key alone: a proof bundle, or checkpoints
saved over time with the consistency proofs between them (saved too, or fetched from the
log's read-only API when a URL is given). No database."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from dangan.crypto import hash_with, verifier_for
from dangan.ledger.bundles import verify_proof_bundle
from dangan.ledger.chain import check_chain
from dangan.ledger.note import parse_checkpoint, parse_note


def check_bundle(bundle: Mapping[str, Any], key: bytes, trusted: tuple[str, str]) -> dict[str, Any]:
    hash_name, sign_name = trusted
    if (bundle.get("hash"), bundle.get("sign")) != trusted:
        named = (bundle.get("hash"), bundle.get("sign"))
        return {"ok": False, "problems": [f"algorithms {named} are not the trusted {trusted}"]}
    problems = verify_proof_bundle(
        bundle, key, lambda d: hash_with(hash_name, d), verifier_for(sign_name), sign_name
    )
    if problems:
        return {"ok": False, "problems": problems}
    return {"ok": True, "seq": bundle.get("seq"), "tree_size": bundle.get("tree_size")}


def check_notes(  # noqa: PLR0917 - what a chain is checked with
    notes: Sequence[str],
    key: bytes,
    trusted: tuple[str, str],
    url: str | None,
    token: str | None,
    saved: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Checkpoint notes saved over time form one growing log: consistency proofs between
    them come from `saved` (what `dangan ledger consistency` printed) or from the log at
    `url`."""
    hash_name, sign_name = trusted
    sizes = sorted({size for n in notes if (size := _size(n)) is not None})
    proofs = _fetch(url, token, sizes) if url else {}
    for i, doc in enumerate(saved):
        try:
            pair = (int(doc["old"]), int(doc["new"]))
            proofs.setdefault(pair, [base64.b64decode(h, validate=True) for h in doc["proof"]])
        except (KeyError, TypeError, ValueError) as exc:
            return {
                "ok": False,
                "sizes": sizes,
                "problems": [f"consistency proof file {i + 1}: not old, new and proof ({exc})"],
            }
    problems = check_chain(
        notes, proofs, key, sign_name, lambda d: hash_with(hash_name, d), verifier_for(sign_name)
    )
    return {"ok": not problems, "sizes": sizes, "problems": problems}


def _size(note: str) -> int | None:
    try:
        return parse_checkpoint(parse_note(note).text).size
    except Exception:
        return None


def _fetch(url: str, token: str | None, sizes: list[int]) -> dict[tuple[int, int], list[bytes]]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    out = {}
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30) as client:
        for old, new in itertools.pairwise(sizes):
            if old == 0:
                continue
            got = client.get("/api/v1/ledger/consistency", params={"old": old, "new": new})
            got.raise_for_status()
            out[(old, new)] = [base64.b64decode(h) for h in got.json()["proof"]]
    return out
