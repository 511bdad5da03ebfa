"""The nesting scan agrees with the parser: strings, escapes, encodings, any chunking."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangan.core.errors import MalformedInputError
from dangan.core.json_depth import MAX_JSON_DEPTH, DepthScanner, json_too_deep, nests_too_deep

TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{}\n题\u202e'), max_size=8)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=40,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def fed(data: bytes, size: int, limit: int) -> bool:
    scanner = DepthScanner(limit)
    starts = range(0, len(data), size)
    return any(scanner.feed(data[i : i + size], final=i + size >= len(data)) for i in starts)


@given(VALUES, st.integers(min_value=0, max_value=6), st.integers(min_value=1, max_value=7))
def test_the_scan_counts_what_the_parser_nests(value: Any, limit: int, size: int) -> None:
    for ascii_only in (True, False):
        data = json.dumps(value, ensure_ascii=ascii_only).encode()
        expected = depth_of(value) > limit
        assert nests_too_deep(data, limit) is expected
        assert fed(data, size, limit) is expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_encodings_json_loads_takes(encoding: str) -> None:
    deep, shallow = "[" * 65 + "]" * 65, '["[[[[", ' * 40 + "1" + "]" * 40
    assert json.loads(deep.encode(encoding))
    assert nests_too_deep(deep.encode(encoding))
    assert not nests_too_deep(shallow.encode(encoding))
    assert fed(deep.encode(encoding), 3, MAX_JSON_DEPTH)


def test_the_limit_is_inclusive_and_the_scan_stops_early() -> None:
    assert not nests_too_deep(b"[" * 64 + b"]" * 64)
    assert nests_too_deep(b"[" * 65 + b"]" * 65)
    assert nests_too_deep(b"[" * 10_000_000)  # stops at the 65th bracket
    # A stray closer does not buy extra levels.
    assert nests_too_deep(b"]" * 100 + b"[" * 65)


def test_escapes_split_across_chunks() -> None:
    data = b'["\\"' + b"[" * 100 + b'"]'  # one string: brackets inside do not count
    assert not any(fed(data, size, 2) for size in range(1, 8))
    data = b'["\\\\"' + b"[" * 3 + b"]]]]"  # an escaped backslash ends the string
    assert all(fed(data, size, 2) for size in range(1, 8))


def test_the_error_names_the_field() -> None:
    err = json_too_deep("metadata")
    assert isinstance(err, MalformedInputError)
    assert err.code == "json_too_deep"
    assert [(p.field, p.code) for p in err.problems] == [("metadata", "json_too_deep")]
    assert "64" in err.zh
    assert "64" in err.en
