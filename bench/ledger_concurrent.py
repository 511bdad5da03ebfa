"""Benchmark group commit: durable ledger appends from 1 and 64 concurrent writers.

    .venv/bin/python -m bench.ledger --concurrent [--seconds 10] [--writers 1 64]
                                     [--suite sm|intl] [--pg URL] [--json PATH]

Each writer appends one event at a time through the sequencer and waits until it is durable:
in the database, signed into a checkpoint of its batch, and copied to two local storage roots
(write, fsync, rename, fsync the directory) — what every use case waits for. The floor is the
same database's plain durable commit of one row per transaction, single writer, measured in
the same run: `ratio` = appends/s ÷ floor commits/s (above 1: batching beats one commit per
append). Latency is per append, from the call to its return.

`--pg URL` names a PostgreSQL server; a throw-away database is created and dropped there.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from bench.ledger import FLOOR
from sqlalchemy import Engine, insert

from dangan.crypto import KeyedSuite
from dangan.db.base import Base
from dangan.db.engine import make_sessionmaker
from dangan.db.locking import named_lock
from dangan.ledger import LEDGER_TABLES, Ledger
from dangan.ledger.sequencer import LOCK_KEY, LOCK_NAME, Sequencer
from dangan.storage import LocalBlobStore


def floor_commits_per_s(engine: Engine, seconds: float) -> float:
    sessions = make_sessionmaker(engine)
    FLOOR.create(engine)
    try:
        n, end = 0, time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < end:
            with sessions() as s, s.begin():
                s.execute(insert(FLOOR), [{"id": n, "event": f"e{n}" * 40, "hash": bytes(32)}])
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        FLOOR.drop(engine)


def two_root_sequencer(
    engine: Engine, suite: KeyedSuite, tmp: Path, *, batch_max: int, linger: float
) -> tuple[Ledger, list[LocalBlobStore], Sequencer]:
    """A ledger on `engine` whose batches are copied to two local roots under `tmp`."""
    tmp.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(suite, origin="bench")
    stores = [LocalBlobStore(tmp / f"root{i}", name=f"root{i}") for i in (1, 2)]
    for store in stores:
        store.root.mkdir(parents=True, exist_ok=True)
    seq = Sequencer(
        ledger,
        make_sessionmaker(engine),
        stores,
        lambda: named_lock(engine, tmp, LOCK_NAME, LOCK_KEY),
        batch_max=batch_max,
        linger=linger,
    )
    return ledger, stores, seq


def run_writers(seq: Sequencer, writers: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def writer(w: int) -> None:
        mine, i = [], 0
        while time.perf_counter() < stop:
            event = {
                "type": "bench.append",
                "actor": f"writer-{w}",
                "at": "2026-12-01T00:00:00Z",
                "outcome": "success",
                "details": {"i": i},
            }
            a = time.perf_counter()
            seq.append([event])
            mine.append(time.perf_counter() - a)
            i += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    return {
        "writers": writers,
        "appends": len(ms),
        "appends_per_s": round(len(ms) / took, 1),
        "latency_ms": {
            "p50": round(statistics.median(ms), 2),
            "p95": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 2),
        },
    }


def run(
    label: str, engine: Engine, suite: KeyedSuite, tmp: Path, args: argparse.Namespace
) -> dict[str, Any]:
    Base.metadata.create_all(engine, tables=LEDGER_TABLES)
    floor = floor_commits_per_s(engine, min(args.seconds, 5))
    ledger, _, seq = two_root_sequencer(
        engine, suite, tmp / label, batch_max=args.batch_max, linger=args.linger_ms / 1000
    )
    result: dict[str, Any] = {
        "backend": label,
        "suite": suite.name,
        "floor_commits_per_s": round(floor, 1),
    }
    for writers in args.writers:
        got = run_writers(seq, writers, args.seconds)
        got["ratio_to_floor"] = round(got["appends_per_s"] / floor, 2)
        result[f"writers_{writers}"] = got
    with make_sessionmaker(engine)() as s:
        a = time.perf_counter()
        report = ledger.verify(s)
        result["verify_s"] = round(time.perf_counter() - a, 2)
        result["entries"] = report.size
        assert report.ok, report.problems[:3]
    return result
