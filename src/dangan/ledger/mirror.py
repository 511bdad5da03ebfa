"""A copy of the ledger in every storage root, so losing the database does not lose the trail.

Entries and signed checkpoints are immutable, so exporting them is idempotent: each root keeps
`head.json` (how many entries it holds) and the export writes what lies beyond it. The files
live in the OCFL storage root's `extensions/dangan-ledger/` directory, which OCFL leaves to
extensions. `restore` reads them back into an empty database; `Ledger.verify` then checks every
leaf, node and signature as usual.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dangan.core.errors import DanganError
from dangan.ledger.domain import TreeBuilder, leaf_hash
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from dangan.ledger.store import Checkpoint, Ledger, event_target
from dangan.storage.interfaces import BlobStore

PREFIX = "extensions/dangan-ledger"
HEAD = f"{PREFIX}/head.json"
BATCH = 1000


def entry_key(seq: int) -> str:
    return f"{PREFIX}/entries/{seq // 1_000_000:04d}/{seq // 1000 % 1000:03d}/{seq:010d}.json"


def checkpoint_key(size: int) -> str:
    return f"{PREFIX}/checkpoints/{size // 1_000_000:04d}/{size:010d}.json"


def _exported(store: BlobStore) -> int:
    try:
        return int(json.loads(store.get(HEAD))["size"])
    except DanganError:
        return 0


def _checkpoint_doc(cp: LedgerCheckpoint) -> bytes:
    """The checkpoint as `Ledger.prove` shows it, in sorted keys (stable bytes)."""
    return json.dumps(Checkpoint.of(cp).as_dict(), sort_keys=True).encode()


def export(session: Session, stores: Sequence[BlobStore], min_batch: int = 1) -> int:
    """Write entries and the newest checkpoint beyond each store's head; returns entries written.

    With `min_batch` > 1 a store is only brought up to date once that many entries wait, so
    the durable writes are shared by several appends; the copy then lags the database by fewer
    than `min_batch` entries (it exists for the loss of the database, which is the truth).
    """
    written = 0
    size = session.scalar(select(LedgerHead.size)) or 0
    for store in stores:
        start = _exported(store)
        if size - start < min_batch:
            continue
        last = start
        while True:
            rows = session.execute(
                select(LedgerEntry.seq, LedgerEntry.event)
                .where(LedgerEntry.seq >= last)
                .order_by(LedgerEntry.seq)
                .limit(BATCH)
            ).all()
            for seq, event in rows:
                store.put(entry_key(seq), event.encode("utf-8"))
            written += len(rows)
            if len(rows) < BATCH:
                last += len(rows)
                break
            last = rows[-1][0] + 1
        if last == start:
            continue
        # The newest checkpoint within the copy signs it all; one per receipt would be noise.
        cp = session.scalars(
            select(LedgerCheckpoint)
            .where(LedgerCheckpoint.size <= last)
            .order_by(LedgerCheckpoint.size.desc())
            .limit(1)
        ).one_or_none()
        if cp is not None:
            store.put(checkpoint_key(cp.size), _checkpoint_doc(cp))
        store.put(HEAD, json.dumps({"size": last}).encode())  # last: entries before it exist
    return written


def restore(session: Session, ledger: Ledger, store: BlobStore) -> int:
    """Fill EMPTY ledger tables from `store`'s copy; returns the number of entries."""
    size = _exported(store)
    builder = TreeBuilder(ledger.suite.hash)
    for seq in range(size):
        data = store.get(entry_key(seq))
        event: dict[str, Any] = json.loads(data)
        digest = leaf_hash(ledger.suite.hash, data)
        session.execute(
            insert(LedgerEntry),
            [
                {
                    "seq": seq,
                    "event": data.decode("utf-8"),
                    "leaf_hash": digest,
                    "target": event_target(event),
                    "created_at": datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00")),
                }
            ],
        )
        nodes = [
            {"level": lv, "idx": idx, "hash": h, "seq": seq} for lv, idx, h in builder.push(digest)
        ]
        if nodes:
            session.execute(insert(LedgerNode), nodes)
    session.execute(insert(LedgerHead), [{"id": 1, "size": size}])
    for key in store.list(f"{PREFIX}/checkpoints"):
        doc = json.loads(store.get(key))
        if doc["size"] > size:
            continue
        session.execute(
            insert(LedgerCheckpoint),
            [
                {
                    "size": doc["size"],
                    "origin": doc["origin"],
                    "root": bytes.fromhex(doc["root"]),
                    "time": doc["time"],
                    "hash_alg": doc["hash"],
                    "sign_alg": doc["sign"],
                    "signature": bytes.fromhex(doc["signature"]),
                }
            ],
        )
    return size


def best_copy(stores: Sequence[BlobStore]) -> BlobStore | None:
    """The store holding the longest copy (copies only ever grow)."""
    sized = [(s, _exported(s)) for s in stores]
    sized = [(s, n) for s, n in sized if n > 0]
    return max(sized, key=lambda p: p[1])[0] if sized else None
