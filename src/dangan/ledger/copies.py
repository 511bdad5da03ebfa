"""The database log and its copies in the storage roots, kept in step.

- `guard` is asked before a checkpoint is stored: the highest checkpoint any copy holds must
  be part of the tree about to be signed — not above it (the database was rolled back or cut)
  and not beside it (the database forked). Either is an IntegrityFailure and nothing is signed.
- `catch_up` writes to a copy the batches it missed (from the database).
- `restore` fills an empty database from the longest copy; `restore_tail` puts back entries
  cut from the end of a database that is otherwise a prefix of the copy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dangan.core.errors import DanganError, IntegrityFailure
from dangan.ledger import checkpoints, mirror
from dangan.ledger.domain import TreeBuilder, leaf_hash
from dangan.ledger.events import event_target
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from dangan.ledger.note import CheckpointText, parse_checkpoint, parse_note
from dangan.ledger.store import Ledger
from dangan.storage.interfaces import BlobStore


def highest_outside(stores: Sequence[BlobStore]) -> tuple[CheckpointText, str] | None:
    """The highest checkpoint any copy holds."""
    found = [got for s in stores if (got := _latest(s)) is not None]
    return max(found, key=lambda got: got[0].size) if found else None


def _latest(store: BlobStore) -> tuple[CheckpointText, str] | None:
    try:
        return mirror.read_latest(store)
    except (DanganError, ValueError):
        return None


def rolled_back(signed: int, size: int) -> IntegrityFailure:
    return IntegrityFailure(
        code="ledger_rolled_back",
        zh=f"审计日志只有 {size} 条，但存储根中已有大小为 {signed} 的签名检查点："
        f"记录 {size}–{signed - 1} 缺失（被截断或回滚），拒绝签发",
        en=f"the log holds {size} entries but a checkpoint of size {signed} was already "
        f"signed (in the storage roots): entries {size}..{signed - 1} are missing "
        "(cut or rolled back); nothing is signed",
    )


def forked(size: int) -> IntegrityFailure:
    return IntegrityFailure(
        code="ledger_forked",
        zh=f"数据库中的日志与存储根中已签名的大小为 {size} 的检查点不一致（分叉），拒绝签发",
        en=f"the log in the database disagrees with the checkpoint of size {size} already "
        "signed in the storage roots (a fork); nothing is signed",
    )


def guard(
    session: Session,
    ledger: Ledger,
    outside: tuple[CheckpointText, str] | None,
    size: int,
    root: bytes | None = None,
) -> None:
    """Refuse to extend a tree of `size` entries (the database's, before anything new is
    appended) that is not `outside`, the highest checkpoint held outside the database
    (`highest_outside`), or its extension. `root` is the tree's root when already known."""
    if outside is None:
        return
    signed = outside[0]
    if signed.size > size:
        raise rolled_back(signed.size, size)
    if not signed.size:
        return
    known = root if root is not None and signed.size == size else None
    if (known or ledger.root(session, signed.size)) != signed.root:
        raise forked(signed.size)


def catch_up(
    session: Session, stores: Sequence[BlobStore]
) -> tuple[list[BlobStore], tuple[CheckpointText, str] | None]:
    """Copy to each store the batches it lacks (its latest checkpoint tells how far it is).
    Returns the stores now up to date — raising when none is: nothing more may be signed —
    and the highest checkpoint any store held before (for `guard`)."""
    db_size = session.scalar(select(LedgerHead.size)) or 0
    healthy, problems, seen = [], [], []
    for store in stores:
        try:
            latest = _latest(store)
            if latest is not None:
                seen.append(latest)
            have = latest[0].size if latest else 0
            if have < db_size:
                _export(session, store, _exported_size(store, have))
            healthy.append(store)
        except (OSError, DanganError, ValueError) as exc:
            problems.append(f"{store.name}: {exc}")
    if not healthy and stores:
        raise mirror.copy_failed(problems)
    return healthy, max(seen, key=lambda got: got[0].size) if seen else None


def _exported_size(store: BlobStore, latest: int) -> int:
    """Where a lagging copy's segments end: its latest checkpoint, or further if a segment
    was written but its latest checkpoint not (a crash between the two)."""
    spans = mirror.segments(store) if latest == 0 else [(0, latest)]
    return max(latest, mirror.contiguous_size(spans))


def _export(session: Session, store: BlobStore, start: int) -> None:
    """Segments from `start`, one per checkpoint in the database beyond it."""
    cps = session.scalars(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.size > start)
        .order_by(LedgerCheckpoint.size)
    ).all()
    for row in cps:
        texts = list(
            session.scalars(
                select(LedgerEntry.event)
                .where(LedgerEntry.seq >= start, LedgerEntry.seq < row.size)
                .order_by(LedgerEntry.seq)
            )
        )
        note = row.note or ""
        seg = mirror.Segment(start, row.size, texts, note, row.time)
        store.put_many(
            [(mirror.segment_key(start, row.size), seg.doc()), (mirror.LATEST, note.encode())]
        )
        start = row.size


def _insert_entries(
    session: Session, ledger: Ledger, texts: Sequence[str], start: int, builder: TreeBuilder
) -> None:
    rows, nodes = [], []
    for offset, text in enumerate(texts):
        seq = start + offset
        data = text.encode("utf-8")
        event: dict[str, Any] = json.loads(data)
        digest = leaf_hash(ledger.suite.hash, data)
        at = datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00"))
        rows.append(
            {"seq": seq, "event": text, "leaf_hash": digest, "created_at": at}
            | {"target": event_target(event), "pending_id": None}
        )
        nodes += [
            {"level": lv, "idx": idx, "hash": h, "seq": seq} for lv, idx, h in builder.push(digest)
        ]
    if rows:
        session.execute(insert(LedgerEntry), rows)
    if nodes:
        session.execute(insert(LedgerNode), nodes)


def _insert_checkpoints(
    session: Session, ledger: Ledger, notes: Sequence[tuple[str, str]], upto: int, have: set[int]
) -> int:
    """Checkpoints from (note, time) pairs, up to size `upto`, skipping sizes already held."""
    n = 0
    for note, time in notes:
        cp = parse_checkpoint(parse_note(note).text)
        if cp.size > upto or cp.size in have:
            continue
        session.execute(insert(LedgerCheckpoint), [_checkpoint_row(ledger, note, cp, time)])
        have.add(cp.size)
        n += 1
    return n


def _checkpoint_row(ledger: Ledger, note: str, cp: CheckpointText, time: str) -> dict[str, Any]:
    mine = [s for s in parse_note(note).signatures if s.name == cp.origin]
    return {
        "size": cp.size,
        "origin": cp.origin,
        "root": cp.root,
        "time": time,
        "hash_alg": ledger.suite.hash_name,
        "sign_alg": ledger.suite.sign_name,
        "signature": mine[0].signature if mine else b"",
        "note": note,
    }


def restore(session: Session, ledger: Ledger, store: BlobStore) -> int:
    """Fill EMPTY ledger tables from `store`'s copy; returns the number of entries."""
    texts, notes = mirror.entries(store)
    _insert_entries(session, ledger, texts, 0, TreeBuilder(ledger.suite.hash))
    session.execute(insert(LedgerHead), [{"id": 1, "size": len(texts)}])
    _insert_checkpoints(session, ledger, _with_latest(notes, store), len(texts), set())
    return len(texts)


def _with_latest(notes: list[tuple[str, str]], store: BlobStore) -> list[tuple[str, str]]:
    """The segments' checkpoints, the latest (with its cosignatures) in place of its plain
    copy."""
    outside = _latest(store)
    if outside is None:
        return notes
    return [(outside[1], next((t for n, t in notes if _size(n) == outside[0].size), "")), *notes]


def _size(note: str) -> int:
    return parse_checkpoint(parse_note(note).text).size


def restore_tail(session: Session, ledger: Ledger, stores: Sequence[BlobStore]) -> int:
    """Put back entries cut from the end of the database, if the database is a prefix of a
    copy (same bytes up to its size); returns how many. Anything else is left to verify."""
    size = ledger.lock_head(session)
    best = mirror.best_copy(stores)
    if best is None:
        return 0
    texts, notes = mirror.entries(best)
    if len(texts) <= size:
        return 0
    held = list(session.scalars(select(LedgerEntry.event).order_by(LedgerEntry.seq)))
    if held != texts[:size]:
        return 0
    frontier = ledger._fetch(session, TreeBuilder.frontier_keys(size))
    builder = TreeBuilder.resume(ledger.suite.hash, size, frontier)
    _insert_entries(session, ledger, texts[size:], size, builder)
    session.execute(update(LedgerHead).values(size=len(texts)))
    have = {cp.size for cp in checkpoints.every(session)}
    _insert_checkpoints(session, ledger, _with_latest(notes, best), len(texts), have)
    return len(texts) - size
