"""Benchmark the audit log: durable appends against a plain-commit floor, proofs, verification.

    .venv/bin/python -m bench.ledger [-n 5000] [--suite sm|intl] [--pg URL] [--json PATH]
    .venv/bin/python -m bench.ledger --concurrent [--seconds 10] [--writers 1 64] [--pg URL]
    .venv/bin/python -m bench.ledger --scale 1000000 [--pg URL]

Three modes. The default (below) appends one event per transaction with the low-level
`Ledger.append`. `--concurrent` (bench/ledger_concurrent.py) runs 1 and 64 writers through
the group commit every use case uses. `--scale N` (bench/ledger_scale.py) generates a log of
N entries and reports proof sizes and the time of a full verification.

Each append is its own committed transaction (SQLite WAL + synchronous=FULL, so fsync'd).
The floor is measured in the same run and the same database: N committed transactions that
each INSERT one row (the same canonical event bytes plus a 32-byte hash) into a bare table,
interleaved one for one with the appends. `ratio` = append time / floor time (1.0 = the
ledger costs nothing beyond a durable commit). Proofs are set against the time of one raw
hash of 64 bytes with the suite's hash (one Merkle node).

`--pg URL` names a PostgreSQL server (its database is only used to CREATE and DROP a
throw-away database `dangan_bench_<random>`, where the run happens); nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Column, Engine, Integer, LargeBinary, MetaData, Table, Text, insert
from sqlalchemy.engine import make_url

from dangan.core.canonical import canonical_json
from dangan.crypto import KeyedSuite, init_keys, load_suite
from dangan.db.base import Base
from dangan.db.engine import make_engine, make_sessionmaker
from dangan.ledger import LEDGER_TABLES, Ledger, verify_consistency, verify_inclusion

FLOOR = Table(
    "bench_commit_floor",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("event", Text, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)


def micros(samples: list[float]) -> dict[str, float]:
    us = sorted(s * 1e6 for s in samples)
    return {
        "p50": round(statistics.median(us), 1),
        "p95": round(us[min(len(us) - 1, int(len(us) * 0.95))], 1),
    }


def hash64_us(suite: KeyedSuite, rounds: int = 20000) -> float:
    """µs for one raw hash of a 64-byte input (an inner Merkle node); best of 5 batches."""
    data = bytes(range(64))
    h = suite.hash
    best = float("inf")
    for _ in range(5):
        a = time.perf_counter()
        for _ in range(rounds):
            h(data)
        best = min(best, time.perf_counter() - a)
    return round(best / rounds * 1e6, 3)


def events(n: int) -> Iterator[dict[str, Any]]:
    rnd = random.Random(7)
    for i in range(n):
        yield {
            "type": "record.viewed",
            "actor": f"user-{i % 50}",
            "at": "2025-01-01T00:00:00.000000Z",
            "target": f"record/{rnd.randrange(10**6)}",
            "outcome": "ok",
            "details": {"ip": "10.0.0.1", "reason": "档案查阅"},
        }


def run(label: str, engine: Engine, suite: KeyedSuite, n: int, samples: int) -> dict[str, Any]:
    Base.metadata.create_all(engine, tables=LEDGER_TABLES)
    FLOOR.create(engine)
    try:
        return _measure(label, engine, suite, n, samples)
    finally:
        FLOOR.drop(engine)


def _measure(label: str, engine: Engine, suite: KeyedSuite, n: int, samples: int) -> dict[str, Any]:
    sessions = make_sessionmaker(engine)
    ledger = Ledger(suite, origin="bench")
    rnd = random.Random(11)

    # floor and appends alternate one for one, so both see the same WAL / cache / disk state
    floor_t, append_t = [], []
    for i, event in enumerate(events(n)):
        data = canonical_json({**event, "seq": i})  # the bytes the ledger stores for seq i
        row = {"id": i, "event": data.decode("utf-8"), "hash": suite.hash(data)}
        a = time.perf_counter()
        with sessions() as s, s.begin():
            s.execute(insert(FLOOR), [row])
        b = time.perf_counter()
        with sessions() as s, s.begin():
            ledger.append(s, event)
            if i + 1 in (1000, n):
                ledger.checkpoint(s)
        c = time.perf_counter()
        floor_t.append(b - a)
        append_t.append(c - b)
    floor_s, append_s = sum(floor_t), sum(append_t)
    floor_us, append_us = micros(floor_t), micros(append_t)
    hash_us = hash64_us(suite)
    result: dict[str, Any] = {
        "backend": label,
        "suite": suite.name,
        "hash": suite.hash_name,
        "entries": n,
        "floor_commits_per_s": round(n / floor_s, 1),
        "appends_per_s": round(n / append_s, 1),
        "ratio": round(append_s / floor_s, 2),
        "floor_commit_us": floor_us,
        "append_us": append_us,
        "latency_ratio": {k: round(append_us[k] / floor_us[k], 2) for k in ("p50", "p95")},
        "hash64_us": hash_us,
        "sizes": {},
    }

    h = suite.hash
    with sessions() as s, s.begin():
        leaves = {}
        for size in sorted({min(1000, n), n}):
            root = ledger.root(s, size)
            gen, ver, cgen, cver = [], [], [], []
            for _ in range(samples):
                seq = rnd.randrange(size)
                a = time.perf_counter()
                path = ledger.inclusion_proof(s, seq, size)
                b = time.perf_counter()
                if seq not in leaves:
                    leaves[seq] = ledger._fetch(s, [(0, seq)])[(0, seq)]
                c = time.perf_counter()
                assert verify_inclusion(h, seq, size, leaves[seq], path, root)
                d = time.perf_counter()
                gen.append(b - a)
                ver.append(d - c)

                old = rnd.randrange(1, size + 1)
                old_root = ledger.root(s, old)
                a = time.perf_counter()
                proof = ledger.consistency_proof(s, old, size)
                b = time.perf_counter()
                assert verify_consistency(h, old, size, old_root, root, proof)
                c = time.perf_counter()
                cgen.append(b - a)
                cver.append(c - b)
            incl_ver = micros(ver)
            result["sizes"][size] = {
                "inclusion_gen_us": micros(gen),
                "inclusion_verify_us": incl_ver,
                "inclusion_verify_hashes": round(incl_ver["p50"] / hash_us, 1),
                "consistency_gen_us": micros(cgen),
                "consistency_verify_us": micros(cver),
            }
        a = time.perf_counter()
        report = ledger.verify(s)
        result["verify_all_s"] = round(time.perf_counter() - a, 3)
        assert report.ok, report.problems[:5]
    return result


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A fresh database `dangan_bench_<random>` on the server of `admin_url`, dropped after."""
    url = make_url(admin_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"dangan_bench_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'backend':<10} {'suite':<5} {'floor/s':>8} {'append/s':>9} {'ratio':>6} "
        f"{'floor p50/p95 µs':>17} {'append p50/p95 µs':>18} {'hash64 µs':>9}"
    ]
    for r in results:
        fl, ap = (f"{r[k]['p50']:.0f}/{r[k]['p95']:.0f}" for k in ("floor_commit_us", "append_us"))
        lines.append(
            f"{r['backend']:<10} {r['suite']:<5} {r['floor_commits_per_s']:>8} "
            f"{r['appends_per_s']:>9} {r['ratio']:>6} "
            f"{fl:>17} {ap:>18} "
            f"{r['hash64_us']:>9}"
        )
    lines.append("")
    lines.append(
        f"{'backend':<10} {'size':>6} {'incl gen p50/p95 µs':>20} {'incl ver':>12} "
        f"{'ver ÷ hash64':>12} {'cons gen':>14} {'cons ver':>12}"
    )
    for r in results:
        for size, t in r["sizes"].items():
            cols = [
                f"{t[k]['p50']:.0f}/{t[k]['p95']:.0f}"
                for k in (
                    "inclusion_gen_us",
                    "inclusion_verify_us",
                    "consistency_gen_us",
                    "consistency_verify_us",
                )
            ]
            lines.append(
                f"{r['backend']:<10} {size:>6} {cols[0]:>20} {cols[1]:>12} "
                f"{t['inclusion_verify_hashes']:>12} {cols[2]:>14} {cols[3]:>12}"
            )
        lines.append(
            f"{r['backend']:<10} full verify of {r['entries']} entries: {r['verify_all_s']} s"
        )
    return "\n".join(lines)


def _one_mode(
    label: str, engine: Engine, suite: KeyedSuite, tmp: Path, args: argparse.Namespace
) -> dict[str, Any]:
    if args.concurrent:
        from bench import ledger_concurrent

        return ledger_concurrent.run(label, engine, suite, tmp, args)
    if args.scale:
        from bench import ledger_scale

        return ledger_scale.run(label, engine, suite, tmp, args)
    return run(label, engine, suite, args.n, args.samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="events to append")
    parser.add_argument("--suite", choices=["sm", "intl"], default="sm")
    parser.add_argument(
        "--pg", help="PostgreSQL SQLAlchemy URL; the run happens in a throw-away database there"
    )
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    group = parser.add_argument_group("--concurrent: group commit with many writers")
    group.add_argument("--concurrent", action="store_true")
    group.add_argument("--seconds", type=float, default=10, help="per writer count")
    group.add_argument("--writers", type=int, nargs="+", default=[1, 64])
    group.add_argument("--batch-max", type=int, default=256)
    group.add_argument("--linger-ms", type=float, default=2.0)
    scale = parser.add_argument_group("--scale N: proof sizes and verify time at N entries")
    scale.add_argument("--scale", type=int, default=0)
    args = parser.parse_args()

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        init_keys(tmp / "keys", args.suite)
        suite = load_suite(tmp / "keys", args.suite)
        sqlite = make_engine(f"sqlite:///{tmp / 'bench.db'}")
        results.append(_one_mode("sqlite", sqlite, suite, tmp, args))
        sqlite.dispose()
        if args.pg:
            with scratch_database(args.pg) as url:
                pg = make_engine(url)
                try:
                    results.append(_one_mode("postgresql", pg, suite, tmp, args))
                finally:
                    pg.dispose()
    if not (args.concurrent or args.scale):
        print(table(results))
    text = json.dumps(results, indent=2, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
        print(f"JSON written to {args.json}")
    else:
        print(text)


if __name__ == "__main__":
    main()
