"""Search quality: how often Dangan's search puts the document a person looks for on top.

    .venv/bin/python bench/search_quality.py [--corpus ../shared/data/corpus] [--limit N]
                                             [--db-url URL] [--queries bench/search_queries.jsonl]
                                             [--json out.json] [--misses]

Queries: bench/search_queries.jsonl, written by hand (see bench/search_queries_make.py for how
the target documents were sampled), each naming the one corpus document it looks for, in seven
types: title_fragment (half-remembered title words, reordered), paraphrase (other words than the
title), facets (issuer + year + topic), doc_number_loose (文号 typed loosely: 国发93年7号),
body_fact (a fact only in the body), typo (one wrong character) and abbreviation (发改委, 住建部).

Data: the full-text documents of the shared corpus (never copied into the project), loaded into
a fresh instance in a temporary directory through intake's `submit`, as `dangan demo --corpus`
does. `--limit N` loads every target plus the first N other documents, for quick runs.

Systems, on the same documents and queries:
- dangan: the real search use case (records `search`), as Dangan itself (sees everything).
- bm25: a plain BM25 (bm25s, Lucene variant, k1=1.5, b=0.75) over title + body, tokenised with
  Dangan's own tokenizer (rjieba search mode), so the gap is matching and ranking, not segmenting.

Metrics per system, overall and per query type: MRR@10 (mean of 1/rank of the target, 0 when
not in the top 10), Success@1, Success@10, and how many queries returned nothing at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpus"
DEFAULT_QUERIES = Path(__file__).resolve().parent / "search_queries.jsonl"
QUERY_TYPES = (
    "title_fragment",
    "paraphrase",
    "facets",
    "doc_number_loose",
    "body_fact",
    "typo",
    "abbreviation",
)
K = 10

Ranked = Callable[[str], list[str]]  # query -> corpus ids, best first


# --- metrics -------------------------------------------------------------------------------


def rank_of(target: str, ranked: Sequence[str], k: int = K) -> int | None:
    """1-based rank of `target` within the first `k` results, None when not there."""
    for i, doc_id in enumerate(ranked[:k], start=1):
        if doc_id == target:
            return i
    return None


def summarise(ranks: Sequence[int | None], empty: int = 0) -> dict[str, Any]:
    """MRR@10, Success@1 and Success@10 over ranks (None = not in the top 10)."""
    n = len(ranks)
    if n == 0:
        return {"n": 0, "mrr@10": 0.0, "s@1": 0.0, "s@10": 0.0, "empty": empty}
    return {
        "n": n,
        "mrr@10": round(sum(1 / r for r in ranks if r is not None and r <= K) / n, 4),
        "s@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "s@10": round(sum(1 for r in ranks if r is not None and r <= K) / n, 4),
        "empty": empty,
    }


def load_queries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


# --- data ----------------------------------------------------------------------------------


def load_corpus_docs(corpus: Path) -> list[dict[str, Any]]:
    """Every corpus document with a body, read by the demo loader's own reader."""
    from dangan.instance.demo import corpus_documents

    return list(corpus_documents(corpus))


def select_docs(
    docs: list[dict[str, Any]], targets: Iterable[str], limit: int | None
) -> list[dict[str, Any]]:
    """All documents, or every target plus the first `limit` others (corpus order)."""
    if limit is None:
        return docs
    wanted = set(targets)
    out, others = [], 0
    for d in docs:
        if d["id"] in wanted:
            out.append(d)
        elif others < limit:
            out.append(d)
            others += 1
    return out


# --- systems -------------------------------------------------------------------------------


class DanganSystem:
    """A fresh instance in `work`, loaded through intake's submit like `dangan demo --corpus`."""

    def __init__(self, work: Path, db_url: str | None) -> None:
        from dangan.bootstrap import bootstrap
        from dangan.instance.lifecycle import initialise
        from dangan.settings import load_settings

        settings = load_settings(data_dir=work / "instance", database_url=db_url)
        initialise(settings)
        self.c = bootstrap(settings)
        self.ids: dict[str, str] = {}  # record id -> corpus id
        self.report = {"archived": 0, "queued": 0, "rejected": 0, "skipped": 0}

    def load(self, docs: list[dict[str, Any]], progress: bool = True) -> None:
        from sqlalchemy import select

        from dangan.core.errors import DanganError
        from dangan.instance.demo import corpus_metadata, write_corpus_file
        from dangan.intake.services import submit
        from dangan.records.domain import IncomingFile, Submission
        from dangan.records.models import Record
        from dangan.usecase import Actor

        inbox = self.c.settings.resolved_data_dir / "inbox" / "corpus"
        actor = Actor.system("corpus", {"submit"})
        start = time.perf_counter()
        for i, doc in enumerate(docs, start=1):
            meta = corpus_metadata(doc)
            if meta is None:
                self.report["skipped"] += 1
                continue
            path = write_corpus_file(inbox, doc)
            sub = Submission("corpus", doc["id"], meta, [IncomingFile(path, path.name)])
            try:
                receipt = submit(self.c, actor, sub).receipt or {}
            except DanganError:
                self.report["rejected"] += 1
                continue
            self.report["archived" if receipt.get("archival_code") else "queued"] += 1
            if progress and i % 250 == 0:
                rate = i / (time.perf_counter() - start)
                print(f"  loaded {i}/{len(docs)} ({rate:.1f}/s)", file=sys.stderr)
        with self.c.sessions() as session:
            rows = session.execute(
                select(Record.id, Record.source_id).where(Record.source_system == "corpus")
            )
            self.ids = {str(rid): str(sid) for rid, sid in rows}

    def search(self, query: str) -> list[str]:
        from dangan.core.errors import DanganError
        from dangan.records.services import search
        from dangan.usecase import Actor

        try:
            page = search(self.c, Actor.internal("bench"), query, limit=K)
        except DanganError:
            return []
        return [self.ids.get(h["record_id"], h["record_id"]) for h in page["hits"]]

    def close(self) -> None:
        self.c.close()


class Bm25System:
    """bm25s over Dangan's tokens (rjieba search mode) of title + body."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        import bm25s

        from dangan.search.tokenizer import tokens

        self.tokens = tokens
        self.ids = [d["id"] for d in docs]
        self.model = bm25s.BM25()
        corpus = [tokens(d["title"] + "\n" + d["text"]) for d in docs]
        self.model.index(corpus, show_progress=False)

    def search(self, query: str) -> list[str]:
        q = [t for t in self.tokens(query) if t in self.model.vocab_dict]
        if not q:
            return []
        docs, scores = self.model.retrieve([q], k=min(K, len(self.ids)), show_progress=False)
        return [self.ids[int(i)] for i, s in zip(docs[0], scores[0], strict=True) if s > 0]


# --- run -----------------------------------------------------------------------------------


def evaluate(queries: list[dict[str, Any]], systems: dict[str, Ranked]) -> dict[str, Any]:
    per_query: list[dict[str, Any]] = []
    for q in queries:
        row: dict[str, Any] = {"id": q["id"], "type": q["type"], "query": q["query"]}
        for name, ranked in systems.items():
            results = ranked(q["query"])
            row[name] = {"rank": rank_of(q["target"], results), "hits": len(results)}
        per_query.append(row)
    table: dict[str, dict[str, Any]] = {}
    for name in systems:
        groups = {"overall": per_query} | {
            t: [r for r in per_query if r["type"] == t] for t in QUERY_TYPES
        }
        table[name] = {
            g: summarise([r[name]["rank"] for r in rows], sum(r[name]["hits"] == 0 for r in rows))
            for g, rows in groups.items()
        }
    return {"metrics": table, "queries": per_query}


def print_table(metrics: dict[str, dict[str, Any]]) -> None:
    names = list(metrics)
    head = f"{'type':<18}{'n':>4}" + "".join(
        f"  {n + ' MRR@10':>13}{'S@1':>6}{'S@10':>6}{'empty':>6}" for n in names
    )
    print(head)
    print("-" * len(head))
    for group in ("overall", *QUERY_TYPES):
        first = metrics[names[0]][group]
        line = f"{group:<18}{first['n']:>4}"
        for n in names:
            m = metrics[n][group]
            line += f"  {m['mrr@10']:>13.3f}{m['s@1']:>6.2f}{m['s@10']:>6.2f}{m['empty']:>6}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    ap.add_argument("--limit", type=int, default=None, help="targets + N other documents")
    ap.add_argument("--db-url", default=None, help="default: SQLite in a temporary directory")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--misses", action="store_true", help="list queries Dangan misses")
    args = ap.parse_args()

    queries = load_queries(args.queries)
    all_docs = load_corpus_docs(args.corpus)
    docs = select_docs(all_docs, (q["target"] for q in queries), args.limit)
    known = {d["id"] for d in docs}
    missing = sorted({q["target"] for q in queries} - known)
    if missing:
        sys.exit(f"targets not in the corpus (or without a body): {missing}")

    with tempfile.TemporaryDirectory(prefix="dangan-squality-") as tmp:
        dangan = DanganSystem(Path(tmp), args.db_url)
        try:
            t0 = time.perf_counter()
            dangan.load(docs)
            load_s = time.perf_counter() - t0
            unloaded = sorted({q["target"] for q in queries} - set(dangan.ids.values()))
            t0 = time.perf_counter()
            bm25 = Bm25System(docs)
            bm25_s = time.perf_counter() - t0
            result = evaluate(queries, {"dangan": dangan.search, "bm25": bm25.search})
        finally:
            dangan.close()

    report = {
        "database": "postgresql" if args.db_url and "postgres" in args.db_url else "sqlite",
        "documents": len(docs),
        "limit": args.limit,
        "queries": len(queries),
        "load": dangan.report | {"seconds": round(load_s, 1)},
        "bm25_index_seconds": round(bm25_s, 1),
        "targets_not_indexed": unloaded,
        **result,
    }
    print(f"documents {len(docs)} ({dangan.report}), queries {len(queries)}")
    if unloaded:
        print(f"targets not archived (cannot be found): {unloaded}")
    print_table(result["metrics"])
    if args.misses:
        for row in result["queries"]:
            if row["dangan"]["rank"] is None:
                print(
                    f"  miss {row['id']:<10} {row['type']:<17} {row['query']}  bm25={row['bm25']}"
                )
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
