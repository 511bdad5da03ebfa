"""Benchmark the audit log: durable appends per second, proof generation and verification.

    .venv/bin/python bench/ledger.py [-n 5000] [--suite sm|intl] [--pg URL]

Each append is its own committed transaction (SQLite WAL + synchronous=FULL, so fsync'd).
`--pg URL` also runs on that PostgreSQL database; its ledger tables are DROPPED first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from dangan.db.base import Base
from dangan.db.engine import make_engine, make_sessionmaker
from dangan.ledger import LEDGER_TABLES, Ledger, verify_consistency, verify_inclusion


class _FallbackSuite:
    """SHA-256 + Ed25519, used only if dangan.crypto is unavailable."""

    name, hash_name, sign_name, cipher_name = "intl", "sha256", "ed25519", "aes-256-gcm"

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._key = Ed25519PrivateKey.generate()

    def hash(self, data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def verify(self, data: bytes, signature: bytes, public_key: bytes | None = None) -> bool:
        try:
            self._key.public_key().verify(signature, data)
        except Exception:
            return False
        return True

    def public_key(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


def load_suite(name: str, tmp: Path) -> Any:
    try:
        from dangan.crypto import init_keys
        from dangan.crypto import load_suite as load
    except ImportError:
        print("dangan.crypto not available: using a SHA-256/Ed25519 stand-in")
        return _FallbackSuite()
    key_dir = tmp / "keys"
    init_keys(key_dir, name)
    return load(key_dir, name)


def micros(samples: list[float]) -> dict[str, float]:
    us = sorted(s * 1e6 for s in samples)
    return {
        "p50": round(statistics.median(us), 1),
        "p95": round(us[min(len(us) - 1, int(len(us) * 0.95))], 1),
    }


def run(label: str, engine: Engine, suite: Any, n: int, samples: int) -> dict[str, Any]:
    Base.metadata.drop_all(engine, tables=LEDGER_TABLES)
    Base.metadata.create_all(engine, tables=LEDGER_TABLES)
    sessions = make_sessionmaker(engine)
    ledger = Ledger(suite, origin="bench")
    rnd = random.Random(7)

    t0 = time.perf_counter()
    for i in range(n):
        event = {
            "type": "record.viewed",
            "actor": f"user-{i % 50}",
            "at": "2025-01-01T00:00:00.000000Z",
            "target": f"record/{rnd.randrange(10**6)}",
            "outcome": "ok",
            "details": {"ip": "10.0.0.1", "reason": "档案查阅"},
        }
        with sessions() as s, s.begin():
            ledger.append(s, event)
            if i + 1 in (1000, n):
                ledger.checkpoint(s)
    elapsed = time.perf_counter() - t0
    result: dict[str, Any] = {
        "backend": label,
        "suite": suite.name,
        "entries": n,
        "append_per_s": round(n / elapsed, 1),
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
            result["sizes"][size] = {
                "inclusion_gen_us": micros(gen),
                "inclusion_verify_us": micros(ver),
                "consistency_gen_us": micros(cgen),
                "consistency_verify_us": micros(cver),
            }
        a = time.perf_counter()
        report = ledger.verify(s)
        result["verify_all_s"] = round(time.perf_counter() - a, 3)
        assert report.ok, report.problems[:5]
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'backend':<10} {'suite':<5} {'size':>6} {'append/s':>9} "
        f"{'incl gen p50/p95 µs':>20} {'incl ver':>14} {'cons gen':>16} {'cons ver':>14}"
    ]
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
                f"{r['backend']:<10} {r['suite']:<5} {size:>6} {r['append_per_s']:>9} "
                f"{cols[0]:>20} {cols[1]:>14} {cols[2]:>16} {cols[3]:>14}"
            )
        lines.append(f"{'':<10} full verify of {r['entries']} entries: {r['verify_all_s']} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="events to append")
    parser.add_argument("--suite", choices=["sm", "intl"], default="sm")
    parser.add_argument("--pg", help="PostgreSQL SQLAlchemy URL (its ledger tables are dropped)")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        suite = load_suite(args.suite, Path(tmp))
        sqlite = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        results.append(run("sqlite", sqlite, suite, args.n, args.samples))
        sqlite.dispose()
        if args.pg:
            pg = make_engine(args.pg)
            results.append(run("postgresql", pg, suite, args.n, args.samples))
            pg.dispose()
    print(table(results))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
