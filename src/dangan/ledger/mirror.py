"""The ledger's copy in every storage root: the log outside the database.

In the OCFL storage root's `extensions/dangan-ledger/` (a directory OCFL leaves to
extensions):

- `log/<start>-<end>.json` — one per batch: the entries [start, end) as their exact event
  text, and the checkpoint the batch signed (its C2SP note);
- `log/latest.note` — the highest checkpoint signed, cosignatures included. Signing refuses
  to go below it or beside it (`sequencer`), so a rolled-back or forked database cannot sign
  over what was handed out;
- `receipts/<record id>.json` — the latest receipt given for each record, as given.

A batch is acknowledged only once its segment and `latest.note` are durable in at least one
root; a root that missed batches is brought up to date (from the database) before the next
batch is signed. `restore` reads the longest copy back into an empty database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from dangan.core.errors import DanganError, IntegrityFailure
from dangan.ledger.note import CheckpointText, parse_checkpoint, parse_note
from dangan.storage.interfaces import BlobStore

PREFIX = "extensions/dangan-ledger"
SEGMENTS = f"{PREFIX}/log"
LATEST = f"{SEGMENTS}/latest.note"  # beside the segments: one directory to fsync per batch
RECEIPTS = f"{PREFIX}/receipts"


@cache
def _pool() -> ThreadPoolExecutor:
    """The roots' copies are written side by side: their fsyncs overlap instead of adding up."""
    return ThreadPoolExecutor(4, "dangan-ledger-copy")


def segment_key(start: int, end: int) -> str:
    return f"{SEGMENTS}/{start:012d}-{end:012d}.json"


def receipt_key(record_id: str) -> str:
    return f"{RECEIPTS}/{record_id}.json"


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    entries: list[str]
    checkpoint: str  # the note the batch signed
    time: str = ""  # when it was signed

    def doc(self) -> bytes:
        body = {"start": self.start, "end": self.end, "entries": self.entries}
        extra = {"checkpoint": self.checkpoint, "time": self.time}
        return json.dumps({**body, **extra}, ensure_ascii=False).encode()

    @classmethod
    def parse(cls, data: bytes) -> Segment:
        doc = json.loads(data)
        seg = cls(
            int(doc["start"]),
            int(doc["end"]),
            list(doc["entries"]),
            str(doc["checkpoint"]),
            str(doc.get("time", "")),
        )
        if seg.end - seg.start != len(seg.entries):
            raise ValueError("segment length")
        return seg


def copy_failed(problems: list[str]) -> IntegrityFailure:
    return IntegrityFailure(
        code="ledger_copy_unavailable",
        zh="审计账本无法写入任何存储根的副本，已停止签发：" + "；".join(problems),
        en="the ledger could not be copied to any storage root; nothing more is signed: "
        + "; ".join(problems),
    )


def write_batch(stores: Sequence[BlobStore], segment: Segment, latest_note: str) -> list[str]:
    """Put the segment, then the latest checkpoint, durably on every store (in parallel);
    the names of the stores that took both. Raises if none did (the batch is then not
    acknowledged)."""
    items = [
        (segment_key(segment.start, segment.end), segment.doc()),
        (LATEST, latest_note.encode("utf-8")),
    ]

    def put(store: BlobStore) -> str | None:
        try:
            store.put_many(items)
        except (OSError, DanganError) as exc:
            return f"{store.name}: {exc}"
        return None

    outcomes = list(_pool().map(put, stores))
    done = [s.name for s, o in zip(stores, outcomes, strict=True) if o is None]
    if not done:
        raise copy_failed([o for o in outcomes if o])
    return done


def read_latest(store: BlobStore) -> tuple[CheckpointText, str] | None:
    """The highest checkpoint this copy holds (parsed text, whole note), if any."""
    try:
        note = store.get(LATEST).decode("utf-8")
    except DanganError:
        return None
    return parse_checkpoint(parse_note(note).text), note


def segments(store: BlobStore) -> list[tuple[int, int]]:
    """(start, end) of every segment the copy holds, in order."""
    found = []
    for key in store.list(SEGMENTS):
        name = key.rsplit("/", 1)[-1].removesuffix(".json")
        start, _, end = name.partition("-")
        if start.isdigit() and end.isdigit():
            found.append((int(start), int(end)))
    return sorted(found)


def read_segment(store: BlobStore, start: int, end: int) -> Segment:
    return Segment.parse(store.get(segment_key(start, end)))


def contiguous_size(spans: Iterable[tuple[int, int]]) -> int:
    """How many entries from 0 the spans cover without a gap."""
    size = 0
    for start, end in sorted(spans):
        if start > size:
            break
        size = max(size, end)
    return size


def entries(store: BlobStore) -> tuple[list[str], list[tuple[str, str]]]:
    """Every entry of the copy from 0 with no gap, and the checkpoints (note, time) of its
    segments."""
    texts: list[str] = []
    notes: list[tuple[str, str]] = []
    for start, end in segments(store):
        if start != len(texts):
            if start < len(texts):
                continue  # an overlap repeats what is there; the comparison shows any change
            break
        seg = read_segment(store, start, end)
        texts += seg.entries
        notes.append((seg.checkpoint, seg.time))
    return texts, notes


def put_receipt(stores: Sequence[BlobStore], record_id: str, receipt: dict[str, Any]) -> int:
    """Keep the receipt as given in every store; returns how many took it."""
    data = json.dumps(receipt, ensure_ascii=False, sort_keys=True).encode("utf-8")
    done = 0
    for store in stores:
        try:
            store.put(receipt_key(record_id), data)
            done += 1
        except (OSError, DanganError):
            continue
    return done


def receipts(store: BlobStore) -> dict[str, dict[str, Any]]:
    """The receipts kept in this copy, by record id."""
    out = {}
    for key in store.list(RECEIPTS):
        record_id = key.rsplit("/", 1)[-1].removesuffix(".json")
        try:
            out[record_id] = json.loads(store.get(key))
        except (DanganError, ValueError):
            continue
    return out


def best_copy(stores: Sequence[BlobStore]) -> BlobStore | None:
    """The store holding the longest copy (copies only ever grow)."""
    sized = [(s, contiguous_size(segments(s))) for s in stores]
    sized = [(s, n) for s, n in sized if n > 0]
    return max(sized, key=lambda p: p[1])[0] if sized else None
