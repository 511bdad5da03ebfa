"""Group commit: appends from many writers sequenced in batches, each batch one transaction,
one signed checkpoint and one durable copy in the storage roots.

Two ways in:
- `append(events)` — events that are the whole effect (a view, a search, a refusal): they wait
  in memory and are written by the batch's own transaction;
- `await_queued(ids)` — events a unit of work queued (`Ledger.enqueue`) in its transaction
  with its effect: the batch takes them from `ledger_pending`, whichever process queued them.

One writer at a time leads: it gathers what waits (up to `batch_max`, lingering a few
milliseconds once something waits), takes the ledger lock (`named_lock`, across processes),
brings lagging copies up to date, appends, checks the highest checkpoint outside the database
(`copies.guard`), signs, commits, writes the copy, asks the witnesses, and wakes the others.
An append returns only once its batch is durable in the database and in at least one root.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from dangan.core.errors import DanganError
from dangan.ledger import checkpoints, copies, mirror
from dangan.ledger.checkpoints import Checkpoint, sign_checkpoint
from dangan.ledger.models import LedgerEntry, LedgerPending
from dangan.ledger.note import CheckpointText
from dangan.ledger.store import Ledger
from dangan.storage.interfaces import BlobStore

log = logging.getLogger("dangan.ledger")

LOCK_NAME = "ledger"
LOCK_KEY = zlib.crc32(b"dangan/ledger")  # the advisory lock's key on PostgreSQL
POLL = 0.05  # how often a waiter looks whether another process sequenced its events


@dataclass(frozen=True)
class Sequenced:
    """Where an event landed, and the signed checkpoint of its batch."""

    seq: int
    leaf_hash: bytes
    checkpoint_size: int
    copies: tuple[str, ...] = ()  # the roots holding it when it was acknowledged


@dataclass
class _Waiter:
    events: list[dict[str, Any]]
    results: list[Sequenced] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False


Cosigner = Callable[[Checkpoint], Checkpoint]


class Sequencer:
    def __init__(
        self,
        ledger: Ledger,
        sessions: sessionmaker[Session],
        stores: Sequence[BlobStore],
        lock: Callable[[], AbstractContextManager[None]],
        *,
        batch_max: int = 256,
        linger: float = 0.002,
        cosign: Cosigner | None = None,
    ) -> None:
        self.ledger = ledger
        self.sessions = sessions
        self.stores = list(stores)
        self._lock = lock
        self.batch_max = batch_max
        self.linger = linger
        self.cosign = cosign
        self.witness_trouble: DanganError | None = None  # the last checkpoint's, if any
        self._cv = threading.Condition()
        self._waiting: list[_Waiter] = []
        self._queued: dict[int, Sequenced] = {}  # queue id -> result, for waiters here
        self._awaited: set[int] = set()
        self._leading = False

    # --- the two ways in ---------------------------------------------------------------

    def append(self, events: Sequence[Mapping[str, Any]]) -> list[Sequenced]:
        """Append events that have no other effect; returns once they are durable."""
        if not events:
            return []
        waiter = _Waiter([dict(e) for e in events])
        with self._cv:
            self._waiting.append(waiter)
        self._run_until(lambda: waiter.done)
        if waiter.error is not None:
            raise waiter.error
        return waiter.results

    def await_queued(self, ids: Sequence[int]) -> list[Sequenced]:
        """Wait until the queued events `ids` are sequenced (by any process)."""
        if not ids:
            return []
        with self._cv:
            self._awaited.update(ids)
        try:
            self._run_until(lambda: all(i in self._queued for i in ids), ids)
            with self._cv:
                return [self._queued.pop(i) for i in ids]
        finally:
            with self._cv:
                self._awaited.difference_update(ids)
                for i in ids:
                    self._queued.pop(i, None)

    def at_rest(self) -> AbstractContextManager[object]:
        """Hold the log still: no batch is between its commit and its copies while held (a
        reader's snapshot taken inside sees the copies complete up to the database)."""
        return self._lock()

    def check(self, session: Session) -> None:
        """Refuse, before an effect commits, when the log in the database is behind or beside
        the highest checkpoint signed outside it: the batch would refuse its event anyway,
        and the effect must not land without it. (The batch checks again, under the lock.)"""
        copies.guard(
            session, self.ledger, copies.highest_outside(self.stores), self.ledger.size(session)
        )

    def flush(self) -> int:
        """Sequence whatever is queued now (at start-up, in recovery); how many."""
        return self._batch([])

    # --- leading and following -----------------------------------------------------------

    def _run_until(self, done: Callable[[], bool], ids: Sequence[int] = ()) -> None:
        while True:
            with self._cv:
                if done():
                    return
                lead = not self._leading
                if lead:
                    self._leading = True
                else:
                    self._cv.wait(POLL)
            if lead:
                self._lead()
            # events queued here may have been sequenced by another process's batch (a
            # single-threaded process leads every round and must look too, or it spins)
            if ids and not done():
                self._look_up(ids)

    def _lead(self) -> None:
        """One batch. A failure is handed to the batch's direct writers and raised to the
        leader; writers waiting on queued events meet it when they lead in turn."""
        try:
            if self.linger:
                time.sleep(self.linger)  # let the other writers of this moment join
            with self._cv:
                taken, self._waiting = self._take(self._waiting)
            try:
                self._batch(taken)
            except BaseException as exc:
                for w in taken:
                    w.error, w.done = exc, True
                raise
        finally:
            with self._cv:
                self._leading = False
                self._cv.notify_all()

    def _take(self, waiting: list[_Waiter]) -> tuple[list[_Waiter], list[_Waiter]]:
        taken: list[_Waiter] = []
        room = self.batch_max
        for i, w in enumerate(waiting):
            if taken and len(w.events) > room:
                return taken, waiting[i:]
            taken.append(w)
            room -= len(w.events)
        return taken, []

    def _look_up(self, ids: Sequence[int]) -> None:
        """Queued events another process sequenced: their positions from the database."""
        with self.sessions() as s:
            rows = s.execute(
                select(LedgerEntry.pending_id, LedgerEntry.seq, LedgerEntry.leaf_hash).where(
                    LedgerEntry.pending_id.in_(list(ids))
                )
            ).all()
            found: dict[int, Sequenced] = {}
            for pending_id, seq, digest in rows:
                if pending_id is None:
                    continue
                cp = checkpoints.covering(s, seq)
                found[pending_id] = Sequenced(seq, bytes(digest), cp.size if cp else 0)
        with self._cv:
            self._queued.update(found)

    # --- one batch -------------------------------------------------------------------------

    def _batch(self, taken: list[_Waiter]) -> int:
        direct = [e for w in taken for e in w.events]
        with self._lock():
            healthy, outside = self._catch_up()
            with self.sessions.begin() as s:
                pending = s.scalars(
                    select(LedgerPending)
                    .order_by(LedgerPending.id)
                    .limit(max(self.batch_max - len(direct), 1))
                ).all()
                queued = [(json.loads(p.event), int(p.id)) for p in pending]
                if not queued and not direct:
                    return 0
                start = self.ledger.lock_head(s)
                batch = self.ledger.append_batch(s, [*queued, *((e, None) for e in direct)])
                s.execute(delete(LedgerPending).where(LedgerPending.id.in_([i for _, i in queued])))
                copies.guard(s, self.ledger, outside, start, batch.root_before)
                cp = sign_checkpoint(self.ledger.suite, self.ledger.origin, batch.size, batch.root)
                checkpoints.store(s, cp)
            segment = mirror.Segment(start, batch.size, batch.texts, cp.note, cp.time)
            held = tuple(mirror.write_batch(healthy, segment, cp.note))
            self._witness(cp)
        results = [Sequenced(r.seq, r.leaf_hash, cp.size, held) for r in batch.results]
        self._hand_out(taken, queued, results)
        return len(results)

    def _catch_up(self) -> tuple[list[BlobStore], tuple[CheckpointText, str] | None]:
        """The stores up to date with the database (those behind are brought up first), and
        the highest checkpoint held outside it."""
        with self.sessions() as s:
            return copies.catch_up(s, self.stores)

    def _witness(self, cp: Checkpoint) -> None:
        if self.cosign is None:
            return
        try:
            cosigned = self.cosign(cp)
        except DanganError as exc:
            # the batch is committed and copied: it stays acknowledged, unwitnessed; the next
            # checkpoint is offered with a proof from the last cosigned size, and
            # `ledger verify` names every checkpoint short of the quorum
            log.warning("checkpoint %d not witnessed: %s", cp.size, exc)
            self.witness_trouble = exc
            return
        self.witness_trouble = None
        if cosigned.note != cp.note:
            with self.sessions.begin() as s:
                checkpoints.add_cosignatures(s, cp, cosigned.parsed())
            for store in self.stores:
                try:
                    store.put(mirror.LATEST, cosigned.note.encode("utf-8"))
                except (OSError, DanganError):
                    continue

    def _hand_out(
        self,
        taken: list[_Waiter],
        queued: list[tuple[dict[str, Any], int]],
        results: list[Sequenced],
    ) -> None:
        with self._cv:
            for (_, pending_id), result in zip(queued, results, strict=False):
                if pending_id in self._awaited:
                    self._queued[pending_id] = result
            rest = results[len(queued) :]
            for w in taken:
                w.results, rest = rest[: len(w.events)], rest[len(w.events) :]
                w.done = True
            self._cv.notify_all()
