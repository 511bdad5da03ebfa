"""The database log against everything outside it: the copies in every storage root, the
highest checkpoint signed (kept in the roots), and the receipts handed out.

A log cut at the end, rolled back, forked or rewritten — even by someone holding the signing
key — disagrees with at least one of these while one of them is untouched. Each problem names
the positions involved; `report.findings` groups them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.errors import DanganError
from dangan.crypto import hash_with, verifier_for
from dangan.ledger import checkpoints, mirror
from dangan.ledger.bundles import verify_proof_bundle
from dangan.ledger.domain import TreeBuilder, leaf_hash
from dangan.ledger.models import LedgerEntry
from dangan.ledger.note import SIGNATURE_TYPES, parse_checkpoint, parse_note, verify_note
from dangan.ledger.report import LedgerProblem
from dangan.ledger.store import Ledger
from dangan.storage.interfaces import BlobStore

BATCH = 2000


def _db_rows(session: Session, size: int) -> Iterator[tuple[int, str]]:
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
        for seq, text in rows:
            yield int(seq), text
        last = rows[-1][0]


def _copy_segments(store: BlobStore) -> Iterator[mirror.Segment]:
    at = 0
    for start, end in mirror.segments(store):
        if start != at:
            return  # a gap (or an overlap): the copy ends here
        yield mirror.read_segment(store, start, end)
        at = end


def _runs(seqs: list[int]) -> list[tuple[int, int]]:
    """[start, end) runs of consecutive positions."""
    runs: list[tuple[int, int]] = []
    for seq in seqs:
        if runs and runs[-1][1] == seq:
            runs[-1] = (runs[-1][0], seq + 1)
        else:
            runs.append((seq, seq + 1))
    return runs


class _CopyTree:
    """The copy's own Merkle tree, checked against the checkpoint each segment was written
    with: a copy whose entries no longer fit what the log signed is the one altered."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.builder = TreeBuilder(ledger.suite.hash)
        self.unfit: list[tuple[int, int]] = []  # segments whose entries miss their checkpoint

    def add(self, seg: mirror.Segment) -> None:
        h = self.ledger.suite.hash
        for text in seg.entries:
            self.builder.push(leaf_hash(h, text.encode("utf-8")))
        if not self._fits(seg):
            self.unfit.append((seg.start, seg.end))

    def _fits(self, seg: mirror.Segment) -> bool:
        try:
            note = parse_note(seg.checkpoint)
            signed = parse_checkpoint(note.text)
        except DanganError:
            return False
        return signed.size == seg.end and signed.root == self.builder.root()

    def altered(self, seq: int, segment_note: str) -> bool:
        """Is the copy (not the database) wrong at `seq`? Its segment misses its checkpoint,
        or that checkpoint is not signed by the log."""
        if any(a <= seq < b for a, b in self.unfit):
            return True
        suite = self.ledger.suite
        try:
            note = parse_note(segment_note)
        except DanganError:
            return True
        return not verify_note(
            note,
            self.ledger.origin,
            SIGNATURE_TYPES.get(suite.sign_name, b"?"),
            suite.public_key(),
            lambda key, data, sig: suite.verify(data, sig, public_key=key),
        )


def compare_copy(
    session: Session,
    ledger: Ledger,
    size: int,
    store: BlobStore,
    now: Callable[[], int] | None = None,
) -> list[LedgerProblem]:
    """The copy in `store` position by position against the database's first `size` entries:
    entries that differ (blamed on the copy when the copy no longer fits the checkpoint it
    was written with, else on the database), positions the copy holds and the database lacks
    (deleted or cut), and positions the copy has not caught up with. Positions beyond `size`
    below `now()` (asked once the copy is read) were appended after the snapshot."""
    name = store.name
    db = _db_rows(session, size)
    held = next(db, None)
    differing: list[tuple[int, str]] = []  # (seq, the note of the copy's segment)
    lacking: list[int] = []
    count = 0
    for seg in _copy_segments(store):
        for seq, copy_text in enumerate(seg.entries, start=seg.start):
            if held is not None and held[0] == seq:
                if held[1] != copy_text:
                    differing.append((seq, seg.checkpoint))
                held = next(db, None)
            else:
                lacking.append(seq)
        count = seg.end
    behind = [] if held is None else [held[0], *(seq for seq, _ in db)]
    if lacking and lacking[-1] >= size:
        appended = now() if now is not None else size
        lacking = [seq for seq in lacking if not size <= seq < appended]
    in_copy = _altered_in_copy(ledger, store, differing) if differing else []
    in_db = [seq for seq, note in differing if seq not in set(in_copy)]
    problems = [_differs(name, in_db)] if in_db else []
    problems += [_copy_altered(name, a, b) for a, b in _runs(in_copy)]
    problems += [_missing_from_database(name, a, b) for a, b in _runs(lacking)]
    if behind:
        problems.append(_copy_behind(name, max(behind[0], count), size))
    return problems


def _altered_in_copy(
    ledger: Ledger, store: BlobStore, differing: list[tuple[int, str]]
) -> list[int]:
    """Of the positions where the copy and the database differ, those where the copy is the
    one wrong. Its tree is recomputed only now, when something differs (a second read)."""
    tree = _CopyTree(ledger)
    for seg in _copy_segments(store):
        tree.add(seg)
    return [seq for seq, note in differing if tree.altered(seq, note)]


def _differs(name: str, seqs: list[int]) -> LedgerProblem:
    first = seqs[0]
    return LedgerProblem(
        "entry_differs_from_copy",
        f"记录 {first} 与存储根 {name} 中的副本不同（共 {len(seqs)} 条不同），"
        "而副本与其签名检查点相符：数据库中的记录被改动",
        f"entry {first} differs from the copy in {name} ({len(seqs)} entries differ), "
        "which still fits its signed checkpoint: the database's entries were changed",
        seq=first,
        seq_range=(first, seqs[-1] + 1),
    )


def _copy_altered(name: str, start: int, end: int) -> LedgerProblem:
    return LedgerProblem(
        "copy_altered",
        f"存储根 {name} 的副本中记录 {start}–{end - 1} 被改动：与其签名检查点不符，"
        "数据库中的记录无误",
        f"the copy in {name} was altered at entries {start}..{end - 1}: they no longer fit "
        "the checkpoint they were signed with; the database's entries are right",
        seq=start,
        seq_range=(start, end),
    )


def _missing_from_database(name: str, start: int, end: int) -> LedgerProblem:
    return LedgerProblem(
        "entries_missing_from_database",
        f"存储根 {name} 的副本中有记录 {start}–{end - 1}，数据库中没有（被删除、截断或回滚）",
        f"the copy in {name} holds entries {start}..{end - 1} the database lacks "
        "(deleted, cut or rolled back)",
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
    session: Session,
    ledger: Ledger,
    stores: Sequence[BlobStore],
    now: Callable[[], int] | None = None,
) -> list[LedgerProblem]:
    """Every root's highest signed checkpoint against the database's tree (a checkpoint
    beyond the snapshot but within `now()` was signed since, and is not compared)."""
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
        if size < signed.size <= (now() if now is not None else size):
            continue
        if signed.size > size:
            problems.append(
                LedgerProblem(
                    "signed_beyond_database",
                    f"存储根 {store.name} 中已签名检查点的大小为 {signed.size}，"
                    f"数据库只有 {size} 条：记录 {size}–{signed.size - 1} 缺失（截断或回滚）",
                    f"{store.name} holds a checkpoint signed at size {signed.size} but the "
                    f"database has {size} entries: {size}..{signed.size - 1} are missing "
                    "(deleted, cut or rolled back)",
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
    session: Session,
    ledger: Ledger,
    receipts: Mapping[str, Mapping[str, Any]],
    now: Callable[[], int] | None = None,
) -> list[LedgerProblem]:
    """Each receipt's proof against the log's key, and its checkpoint against the database's
    checkpoint of the same size (a receipt given since the snapshot, within `now()`, is
    checked by its proof alone)."""
    problems = []
    key = ledger.suite.public_key()
    size = ledger.size(session)
    fresh = now() if now is not None else size
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
        problems += _receipt_problems(session, record_id, bundle, found, size, fresh)
    return problems


def _receipt_problems(  # noqa: PLR0917 - the receipt, what its proof gave, and both sizes
    session: Session,
    record_id: str,
    bundle: Mapping[str, Any],
    found: list[str],
    size: int,
    fresh: int,
) -> list[LedgerProblem]:
    seq = bundle.get("seq") if isinstance(bundle.get("seq"), int) else None
    if found:
        return [_receipt(record_id, seq, "receipt_invalid", "收据的证明不成立", "; ".join(found))]
    note = parse_note(str(bundle["checkpoint"]))
    cp = parse_checkpoint(note.text)
    if size < cp.size <= fresh:
        return []  # given since the snapshot; its proof held above
    if cp.size > size:
        return [
            _receipt(
                record_id,
                seq,
                "receipt_beyond_database",
                f"收据中的检查点大小 {cp.size} 超过数据库的 {size} 条（截断或回滚）",
                f"its checkpoint has size {cp.size}, beyond the database's {size} "
                "(deleted, cut or rolled back)",
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
