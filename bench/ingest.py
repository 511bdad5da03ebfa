"""Benchmark ingest: documents per second, and the ratio to a floor measured in the same run.

    .venv/bin/python bench/ingest.py [--count 2000] [--corpus ../shared/data/corpus]
                                     [--db-url URL] [--suite sm|intl] [--json out.json]

Data: the first `count` full-text documents of the real corpus, written as UTF-8 text files
(or, without the corpus, the project's own generated samples in PDF/DOCX/OFD/TXT).
Floor: for the same files, SM3-hash each one and copy it to two directories with the same
durability the storage roots give (write, fsync the file, rename, fsync the directory).
The ratio ingest ÷ floor says what validation, format identification, text extraction,
classification, numbering, signing, the ledger, OCFL packaging and indexing cost on top.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes

from dangan.bootstrap import bootstrap
from dangan.content.samples import generate_samples
from dangan.instance.demo import corpus_documents, corpus_metadata, write_corpus_file
from dangan.instance.lifecycle import initialise
from dangan.records.domain import IncomingFile, Submission
from dangan.records.services import archive_submission
from dangan.settings import load_settings
from dangan.usecase import Actor

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpus"


def make_inputs(work: Path, corpus: Path, count: int) -> list[Submission]:
    inbox = work / "inbox"
    subs: list[Submission] = []
    if corpus.exists():
        for doc in corpus_documents(corpus):
            meta = corpus_metadata(doc)
            if meta is None:
                continue
            path = write_corpus_file(inbox, doc)
            subs.append(Submission("bench", doc["id"], meta, [IncomingFile(path, path.name)]))
            if len(subs) >= count:
                break
    else:
        for path, sample in generate_samples(inbox, count, seed=7):
            meta = {k: v for k, v in sample.items() if k != "pages"}
            subs.append(Submission("bench", path.stem, meta, [IncomingFile(path, path.name)]))
    return subs


def _durable_copy(data: bytes, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    dfd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def floor(work: Path, subs: list[Submission]) -> float:
    """SM3-hash and durably copy the same bytes to two roots."""
    roots = [work / "floor-a", work / "floor-b"]
    for r in roots:
        r.mkdir(parents=True)
    start = time.perf_counter()
    for i, sub in enumerate(subs):
        for f in sub.files:
            data = f.path.read_bytes()
            h = hashes.Hash(hashes.SM3())
            h.update(data)
            h.finalize()
            for r in roots:
                d = r / f"{i:06d}"
                d.mkdir()
                _durable_copy(data, d / "content")
    return time.perf_counter() - start


def ingest(work: Path, subs: list[Submission], db_url: str | None, suite: str) -> dict[str, Any]:
    settings = load_settings(
        data_dir=work / "instance",
        database_url=db_url,
        crypto_suite=suite,
    )
    initialise(settings)
    c = bootstrap(settings)
    latencies = []
    outcome = {"archived": 0, "queued": 0}
    try:
        archive_submission(
            c, Actor.system(subs[0].source_system, {"submit"}), subs[0]
        )  # warm-up: jieba's dictionary, imports (not timed)
        start = time.perf_counter()
        for sub in subs[1:]:
            t0 = time.perf_counter()
            receipt = archive_submission(c, Actor.system(sub.source_system, {"submit"}), sub)
            latencies.append(time.perf_counter() - t0)
            outcome["archived" if receipt["archival_code"] else "queued"] += 1
        elapsed = time.perf_counter() - start
    finally:
        c.close()
    latencies.sort()
    return {
        "seconds": elapsed,
        "docs": len(subs) - 1,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        **outcome,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--db-url", default=None, help="default: SQLite in the work directory")
    ap.add_argument("--suite", choices=["sm", "intl"], default="sm")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="dangan-bench-") as tmp:
        work = Path(tmp)
        subs = make_inputs(work, args.corpus, args.count + 1)
        total_bytes = sum(f.path.stat().st_size for s in subs[1:] for f in s.files)
        floor_s = floor(work, subs[1:])
        result = ingest(work, subs, args.db_url, args.suite)
    docs = result["docs"]
    report = {
        "source": "corpus" if args.corpus.exists() else "generated samples",
        "database": "postgresql" if args.db_url and "postgres" in args.db_url else "sqlite",
        "suite": args.suite,
        "documents": docs,
        "megabytes": round(total_bytes / 1e6, 2),
        "ingest_docs_per_s": round(docs / result["seconds"], 1),
        "ingest_p50_ms": round(result["p50_ms"], 1),
        "ingest_p95_ms": round(result["p95_ms"], 1),
        "floor_docs_per_s": round(docs / floor_s, 1),
        "ratio_ingest_to_floor": round(result["seconds"] / floor_s, 2),
        "archived": result["archived"],
        "queued_for_review": result["queued"],
    }
    width = max(len(k) for k in report)
    for k, v in report.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
