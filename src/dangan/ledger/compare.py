"""The database log against everything outside it: the copies in every storage root, the
highest checkpoint signed (kept in the roots), and the receipts handed out.

A log cut at the end, rolled back, forked or rewritten — even by someone holding the signing
key — disagrees with at least one of these while one of them is untouched. Each problem names
the positions involved; `report.findings` groups them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.errors import DanganError
from dangan.crypto import hash_with, verifier_for
from dangan.ledger import checkpoints, mirror
from dangan.ledger.bundles import verify_proof_bundle
from dangan.ledger.models import LedgerEntry
from dangan.ledger.note import parse_checkpoint, parse_note
from dangan.ledger.report import LedgerProblem
from dangan.ledger.store import Ledger
from dangan.storage.interfaces import BlobStore

BATCH = 2000


def _db_texts(session: Session, size: int) -> Iterator[str]:
    last = -1
    while True:
        rows = session.execute(
            select(LedgerEntry.seq, LedgerEntry.event)
            .where(LedgerEntry.seq > last, LedgerEntry.seq < size)
            .order_by(LedgerEntry.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for _, text in rows:
            yield text
        last = rows[-1][0]


def _copy_texts(store: BlobStore) -> Iterator[str]:
    at = 0
    for start, end in mirror.segments(store):
        if start != at:
            return  # a gap: the copy ends here
        yield from mirror.read_segment(store, start, end).entries
        at = end


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def compare_copy(session: Session, size: int, store: BlobStore) -> list[LedgerProblem]:
    """The copy in `store` entry by entry against the database's first `size` entries."""
    name = store.name
    db, copy = _db_texts(session, size), _copy_texts(store)
    differing: list[int] = []
    seq = 0
    for db_text, copy_text in zip(db, copy, strict=False):
        if _digest(db_text) != _digest(copy_text):
            differing.append(seq)
        seq += 1
    rest_copy = sum(1 for _ in copy)
    rest_db = sum(1 for _ in db)
    problems = [_differs(name, differing)] if differing else []
    if rest_copy:
        problems.append(_missing_from_database(name, seq, seq + rest_copy))
    if rest_db:
        problems.append(_copy_behind(name, seq, seq + rest_db))
    return problems


def _differs(name: str, seqs: list[int]) -> LedgerProblem:
    first = seqs[0]
    return LedgerProblem(
        "entry_differs_from_copy",
        f"记录 {first} 与存储根 {name} 中的副本不同（共 {len(seqs)} 条不同）：数据库中的记录被改动",
        f"entry {first} differs from the copy in {name} ({len(seqs)} entries differ): "
        "the database's entries were changed",
        seq=first,
        seq_range=(first, seqs[-1] + 1),
    )


def _missing_from_database(name: str, start: int, end: int) -> LedgerProblem:
    return LedgerProblem(
        "entries_missing_from_database",
        f"存储根 {name} 的副本中有记录 {start}–{end - 1}，数据库中没有（被截断或回滚）",
        f"the copy in {name} holds entries {start}..{end - 1} the database lacks "
        "(cut or rolled back)",
        seq=start,
        seq_range=(start, end),
    )


def _copy_behind(name: str, start: int, end: int) -> LedgerProblem:
    return LedgerProblem(
        "copy_behind",
        f"存储根 {name} 的副本缺少记录 {start}–{end - 1}（下一批写入时补齐）",
        f"the copy in {name} lacks entries {start}..{end - 1} (filled in at the next batch)",
        seq=start,
        seq_range=(start, end),
    )


def compare_latest(
    session: Session, ledger: Ledger, stores: Sequence[BlobStore]
) -> list[LedgerProblem]:
    """Every root's highest signed checkpoint against the database's tree."""
    size = ledger.size(session)
    problems = []
    for store in stores:
        try:
            got = mirror.read_latest(store)
        except (DanganError, ValueError):
            got = None
        if got is None:
            continue
        signed = got[0]
        if signed.size > size:
            problems.append(
                LedgerProblem(
                    "signed_beyond_database",
                    f"存储根 {store.name} 中已签名检查点的大小为 {signed.size}，"
                    f"数据库只有 {size} 条：记录 {size}–{signed.size - 1} 缺失（截断或回滚）",
                    f"{store.name} holds a checkpoint signed at size {signed.size} but the "
                    f"database has {size} entries: {size}..{signed.size - 1} are missing "
                    "(cut or rolled back)",
                    seq=size,
                    seq_range=(size, signed.size),
                )
            )
        elif signed.size and ledger.root(session, signed.size) != signed.root:
            problems.append(
                LedgerProblem(
                    "fork_from_signed_checkpoint",
                    f"数据库在大小 {signed.size} 的树与存储根 {store.name} 中"
                    "已签名的检查点不同（分叉）",
                    f"the database's tree at size {signed.size} differs from the checkpoint "
                    f"signed in {store.name} (a fork)",
                    seq_range=(0, signed.size),
                )
            )
    return problems


def check_receipts(
    session: Session, ledger: Ledger, receipts: Mapping[str, Mapping[str, Any]]
) -> list[LedgerProblem]:
    """Each receipt's proof against the log's key, and its checkpoint against the database's
    checkpoint of the same size."""
    problems = []
    key = ledger.suite.public_key()
    size = ledger.size(session)
    for record_id, receipt in sorted(receipts.items()):
        bundle = receipt.get("ledger")
        if not isinstance(bundle, Mapping):
            continue
        found = verify_proof_bundle(
            bundle,
            key,
            lambda d: hash_with(ledger.suite.hash_name, d),
            verifier_for(ledger.suite.sign_name),
            ledger.suite.sign_name,
        )
        problems += _receipt_problems(session, record_id, bundle, found, size)
    return problems


def _receipt_problems(
    session: Session, record_id: str, bundle: Mapping[str, Any], found: list[str], size: int
) -> list[LedgerProblem]:
    seq = bundle.get("seq") if isinstance(bundle.get("seq"), int) else None
    if found:
        return [_receipt(record_id, seq, "receipt_invalid", "收据的证明不成立", "; ".join(found))]
    note = parse_note(str(bundle["checkpoint"]))
    cp = parse_checkpoint(note.text)
    if cp.size > size:
        return [
            _receipt(
                record_id,
                seq,
                "receipt_beyond_database",
                f"收据中的检查点大小 {cp.size} 超过数据库的 {size} 条（截断或回滚）",
                f"its checkpoint has size {cp.size}, beyond the database's {size} "
                "(cut or rolled back)",
            )
        ]
    held = checkpoints.at_size(session, cp.size)
    if held is None or held.root != cp.root:
        return [
            _receipt(
                record_id,
                seq,
                "receipt_checkpoint_differs",
                f"收据中大小为 {cp.size} 的检查点与数据库中的不同（分叉或改写）",
                f"its checkpoint of size {cp.size} is not the database's (a fork or a rewrite)",
            )
        ]
    return []


def _receipt(record_id: str, seq: int | None, code: str, zh: str, en: str) -> LedgerProblem:
    return LedgerProblem(
        code,
        f"档案 {record_id} 的收据：{zh}",
        f"the receipt of record {record_id}: {en}",
        seq=seq,
    )
