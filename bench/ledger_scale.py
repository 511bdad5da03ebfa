"""The ledger at scale: proof sizes and full verification of a generated log of N entries.

    .venv/bin/python -m bench.ledger --scale 1000000 [--pg URL] [--json PATH]

The log is generated through the real write path — the sequencer, one batch of `--batch-max`
events per call, each batch one transaction, one signed checkpoint and one segment in each of
two local storage roots — so the database rows, checkpoints and copies are what group commit
leaves behind. Then, on the finished log:

- proof sizes at N (hashes and bytes): inclusion of a random entry, consistency from random
  older sizes, and a whole proof bundle (what a receipt carries);
- proof generation and verification latency, p50/p95;
- full verification: the database log (`Ledger.verify`: every entry, node and checkpoint), each
  copy compared position by position and recomputed against its signed checkpoints, and the
  latest checkpoint outside the database — what `dangan ledger verify` does bar receipts;
- the floor, in the same run: read every entry from the database and hash it once with the
  suite's hash (the least any verification must do); `ratio` = full verify ÷ floor.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.ledger_concurrent import two_root_sequencer
from sqlalchemy import Engine, select

from dangan.crypto import KeyedSuite
from dangan.db.base import Base
from dangan.db.engine import make_sessionmaker
from dangan.ledger import LEDGER_TABLES, Ledger, verify_consistency, verify_inclusion
from dangan.ledger.compare import compare_copy, compare_latest
from dangan.ledger.domain import leaf_hash
from dangan.ledger.models import LedgerEntry
from dangan.ledger.sequencer import Sequencer


def ms(samples: list[float]) -> dict[str, float]:
    xs = sorted(s * 1000 for s in samples)
    return {
        "p50": round(statistics.median(xs), 3),
        "p95": round(xs[min(len(xs) - 1, int(len(xs) * 0.95))], 3),
    }


def generate(seq: Sequencer, n: int, batch: int) -> float:
    """Append n events in batches; returns the seconds taken."""
    rnd = random.Random(5)
    start = time.perf_counter()
    done = 0
    while done < n:
        events = [
            {
                "type": "record.viewed",
                "actor": f"user-{rnd.randrange(500)}",
                "at": "2026-12-01T00:00:00.000000Z",
                "target": f"record/{rnd.randrange(10**6)}",
                "outcome": "ok",
                "details": {"ip": "10.0.0.1", "reason": "档案查阅"},
            }
            for _ in range(min(batch, n - done))
        ]
        seq.append(events)
        done += len(events)
    return time.perf_counter() - start


def floor_s(engine: Engine, suite: KeyedSuite) -> float:
    """Read every entry and hash it once: the least a full verification does."""
    sessions = make_sessionmaker(engine)
    start = time.perf_counter()
    last = -1
    with sessions() as s:
        while True:
            rows = s.execute(
                select(LedgerEntry.seq, LedgerEntry.event)
                .where(LedgerEntry.seq > last)
                .order_by(LedgerEntry.seq)
                .limit(2000)
            ).all()
            if not rows:
                break
            for _, text in rows:
                leaf_hash(suite.hash, text.encode("utf-8"))
            last = rows[-1][0]
    return time.perf_counter() - start


def proofs(engine: Engine, ledger: Ledger, samples: int) -> dict[str, Any]:
    sessions = make_sessionmaker(engine)
    rnd = random.Random(11)
    h = ledger.suite.hash
    out: dict[str, Any] = {}
    with sessions() as s:
        size = ledger.size(s)
        root = ledger.root(s, size)
        gen, ver, cgen, cver, paths, cons = [], [], [], [], [], []
        for _ in range(samples):
            seq = rnd.randrange(size)
            a = time.perf_counter()
            path = ledger.inclusion_proof(s, seq, size)
            b = time.perf_counter()
            leaf = ledger._fetch(s, [(0, seq)])[(0, seq)]
            c = time.perf_counter()
            assert verify_inclusion(h, seq, size, leaf, path, root)
            d = time.perf_counter()
            gen.append(b - a)
            ver.append(d - c)
            paths.append(len(path))

            old = rnd.randrange(1, size)
            old_root = ledger.root(s, old)
            a = time.perf_counter()
            proof = ledger.consistency_proof(s, old, size)
            b = time.perf_counter()
            assert verify_consistency(h, old, size, old_root, root, proof)
            cgen.append(b - a)
            cver.append(time.perf_counter() - b)
            cons.append(len(proof))
        bundle = ledger.prove(s, rnd.randrange(size))
    digest = len(root)
    out["inclusion"] = {
        "hashes_max": max(paths),
        "bytes_max": max(paths) * digest,
        "gen_ms": ms(gen),
        "verify_ms": ms(ver),
    }
    out["consistency"] = {
        "hashes_max": max(cons),
        "bytes_max": max(cons) * digest,
        "gen_ms": ms(cgen),
        "verify_ms": ms(cver),
    }
    out["bundle_bytes"] = len(json.dumps(bundle, ensure_ascii=False).encode("utf-8"))
    return out


def run(
    label: str, engine: Engine, suite: KeyedSuite, tmp: Path, args: argparse.Namespace
) -> dict[str, Any]:
    Base.metadata.create_all(engine, tables=LEDGER_TABLES)
    ledger, stores, seq = two_root_sequencer(
        engine, suite, tmp / f"scale-{label}", batch_max=args.batch_max, linger=0.002
    )
    result: dict[str, Any] = {"backend": label, "suite": suite.name, "entries": args.scale}
    result["generate_s"] = round(generate(seq, args.scale, args.batch_max), 1)
    result["proofs"] = proofs(engine, ledger, args.samples)

    sessions = make_sessionmaker(engine)
    floor = floor_s(engine, suite)
    with sessions() as s:
        a = time.perf_counter()
        report = ledger.verify(s)
        b = time.perf_counter()
        problems = [p for store in stores for p in compare_copy(s, ledger, report.size, store)]
        c = time.perf_counter()
        problems += compare_latest(s, ledger, stores)
        d = time.perf_counter()
    assert report.ok, report.problems[:3]
    assert not problems, problems[:3]
    total = d - a
    result["verify"] = {
        "database_s": round(b - a, 2),
        "copies_s": round(c - b, 2),
        "latest_s": round(d - c, 3),
        "total_s": round(total, 2),
        "floor_s": round(floor, 2),
        "ratio": round(total / floor, 2),
        "entries_per_s": round(args.scale / total),
    }
    return result
