"""Sample the candidate documents that bench/search_queries.jsonl was written from.

    .venv/bin/python bench/search_queries_make.py [--corpus ../shared/data/corpus] [--seed 20]
                                                  [--per-type 40]

This prints candidates; it does not write queries. For each query type it draws, with a fixed
seed, documents from every corpus file (spread over body lengths: short, medium, long), keeping
only documents whose title occurs once in the whole corpus (series letters sent to several
cities share titles, so they could not be identified). A person then read each candidate's title,
document number and body and typed a query the way agency staff would: only candidates that
stay identifiable from the query (checked by scanning the corpus for other documents that fit as
well) went into bench/search_queries.jsonl, with a `note` saying how the query was made.

Type filters: `doc_number_loose` needs a unique `doc_number`; `facets` needs an `org` and a full
date; `abbreviation` needs a title with a long body or subject name that has a common short form
(国家发展和改革委员会 → 发改委, 住房和城乡建设部 → 住建部 …); the rest take any unique title.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.search_quality import DEFAULT_CORPUS, QUERY_TYPES, load_corpus_docs

TYPES = QUERY_TYPES
# Long forms with a short form agency staff type instead.
ABBREVIATED = (
    "国家发展和改革委员会",
    "发展改革委",
    "住房和城乡建设部",
    "住房城乡建设部",
    "国家卫生健康委员会",
    "卫生健康委",
    "环境影响评价",
    "中共中央办公厅",
    "人力资源和社会保障",
    "人力资源社会保障",
    "工业和信息化",
    "生态环境部",
    "全国人民代表大会常务委员会",
    "最高人民法院",
    "最高人民检察院",
    "社会保险",
    "安全生产",
    "知识产权",
    "中小企业",
    "国有资产监督管理",
    "市场监督管理",
)


def _band(doc: dict[str, Any]) -> str:
    n = len(doc["text"])
    return "short" if n < 2000 else "medium" if n < 10000 else "long"


def eligible(doc: dict[str, Any], kind: str, titles: Counter[str], numbers: Counter[str]) -> bool:
    if titles[doc["title"].strip()] != 1 or doc.get("title_truncated"):
        return False
    if len(str(doc.get("date") or "")) != 10:  # the demo loader skips partial dates
        return False
    if kind == "doc_number_loose":
        return bool(doc.get("doc_number")) and numbers[doc["doc_number"]] == 1
    if kind == "facets":
        return bool(doc.get("org")) and len(str(doc.get("date") or "")) == 10
    if kind == "abbreviation":
        return any(a in doc["title"] for a in ABBREVIATED)
    return True


def candidates(docs: list[dict[str, Any]], per_type: int, seed: int) -> dict[str, list[Any]]:
    titles = Counter(d["title"].strip() for d in docs)
    numbers = Counter(d["doc_number"] for d in docs if d.get("doc_number"))
    rng = random.Random(seed)
    taken: set[str] = set()
    out: dict[str, list[Any]] = {}
    for kind in TYPES:
        pool = [d for d in docs if d["id"] not in taken and eligible(d, kind, titles, numbers)]
        # Round-robin over (source file, length band) so every file and length is represented.
        strata: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for d in pool:
            strata.setdefault((d["id"].rsplit("-", 1)[0], _band(d)), []).append(d)
        for group in strata.values():
            rng.shuffle(group)
        picked: list[dict[str, Any]] = []
        keys = sorted(strata)
        while len(picked) < per_type and any(strata[k] for k in keys):
            for k in keys:
                if strata[k] and len(picked) < per_type:
                    picked.append(strata[k].pop())
        taken.update(d["id"] for d in picked)
        out[kind] = picked
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--per-type", type=int, default=40)
    args = ap.parse_args()
    docs = load_corpus_docs(args.corpus)
    for kind, picked in candidates(docs, args.per_type, args.seed).items():
        print(f"## {kind}")
        for d in picked:
            body = " ".join(d["text"].split())
            mid = len(body) // 2
            excerpt = f"\t{body[mid : mid + 100]}" if kind == "body_fact" else ""
            print(
                f"{d['id']}\t{d['title']}\t{d.get('doc_number', '')}\t{d.get('org', '')}\t"
                f"{d.get('date', '')}\t{len(body)}{excerpt}"
            )


if __name__ == "__main__":
    main()
