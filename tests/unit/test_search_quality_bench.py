"""The search-quality bench: its query set stays valid, its metrics right (no corpus needed)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from bench.search_quality import DEFAULT_QUERIES, QUERY_TYPES, rank_of, summarise

FIELDS = {"id", "query", "type", "target", "source", "note"}


def test_query_file_is_valid() -> None:
    lines = [ln for ln in DEFAULT_QUERIES.read_text("utf-8").splitlines() if ln.strip()]
    queries = [json.loads(ln) for ln in lines]
    assert len(queries) >= 150
    for q in queries:
        assert set(q) == FIELDS, q
        assert q["type"] in QUERY_TYPES, q
        assert all(isinstance(q[f], str) and q[f].strip() for f in FIELDS), q
        assert 1 <= len(q["query"].strip()) <= 200, q
        assert q["source"] == q["target"].rsplit("-", 1)[0] + ".jsonl.gz", q
    ids = [q["id"] for q in queries]
    assert len(ids) == len(set(ids))
    per_type = Counter(q["type"] for q in queries)
    assert set(per_type) == set(QUERY_TYPES)
    assert min(per_type.values()) >= 15, per_type


def test_rank_of_counts_from_one_within_the_cutoff() -> None:
    ranked = [f"d{i}" for i in range(1, 13)]
    assert rank_of("d1", ranked) == 1
    assert rank_of("d10", ranked) == 10
    assert rank_of("d11", ranked) is None  # beyond @10
    assert rank_of("x", ranked) is None
    assert rank_of("d3", ranked, k=2) is None


def test_summarise_mrr_and_success() -> None:
    # Ranks 1, 2, 4, missed, 10: MRR@10 = (1 + 1/2 + 1/4 + 0 + 1/10) / 5 = 0.37.
    m = summarise([1, 2, 4, None, 10], empty=1)
    assert m["n"] == 5
    assert m["mrr@10"] == pytest.approx(0.37)
    assert m["s@1"] == pytest.approx(0.2)
    assert m["s@10"] == pytest.approx(0.8)
    assert m["empty"] == 1


def test_summarise_of_nothing_is_zero() -> None:
    assert summarise([]) == {"n": 0, "mrr@10": 0.0, "s@1": 0.0, "s@10": 0.0, "empty": 0}
