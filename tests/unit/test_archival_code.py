"""档号 formatting, parsing and 件号 continuity (DA/T 22-2015, DA/T 13-2022, DA/T 70 GD-2-6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangan.core.errors import ConfigurationError, InvalidInputError
from dangan.metadata import (
    DAT13_2022,
    DAT22_2015,
    ArchivalCodeFormat,
    ArchivalCodeParts,
    check_continuity,
    next_piece,
    scope_key,
)

UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

parts_strategy = st.builds(
    ArchivalCodeParts,
    fonds=st.text(alphabet=UPPER_DIGITS, min_size=4, max_size=4),
    category=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    year=st.integers(1000, 9999),
    retention=st.one_of(st.just("Y"), st.integers(1, 100).map(lambda n: f"D{n}")),
    piece=st.integers(1, 10**6),
    org=st.one_of(
        st.none(),
        st.text(alphabet=UPPER_DIGITS + "abc办公室人事处", min_size=1, max_size=20),
    ),
)


@given(parts=parts_strategy, width=st.integers(1, 6))
def test_round_trip_dat22(parts: ArchivalCodeParts, width: int) -> None:
    fmt = ArchivalCodeFormat(DAT22_2015, piece_width=width)
    code = fmt.format(parts)
    assert fmt.parse(code) == parts


@given(parts=parts_strategy, width=st.integers(1, 6))
def test_round_trip_dat13(parts: ArchivalCodeParts, width: int) -> None:
    fmt = ArchivalCodeFormat(DAT13_2022, piece_width=width)
    assert fmt.parse(fmt.format(parts)) == parts


@pytest.mark.parametrize(
    ("template", "width", "parts", "code"),
    [
        (
            DAT22_2015,
            4,
            ArchivalCodeParts("Z109", "WS", 2024, "Y", 1, "BGS"),
            "Z109-WS·2024-Y-BGS-0001",
        ),
        (
            DAT22_2015,
            4,
            ArchivalCodeParts("Z109", "WS", 2022, "Y", 5, "BGS"),
            "Z109-WS·2022-Y-BGS-0005",
        ),
        (DAT22_2015, 4, ArchivalCodeParts("Z109", "WS", 2024, "D30", 12), "Z109-WS·2024-D30-0012"),
        (
            DAT13_2022,
            4,
            ArchivalCodeParts("Z109", "WS", 2011, "Y", 1, "办公室"),
            "Z109-WS·2011·Y·办公室-0001",
        ),
        (
            DAT13_2022,
            3,
            ArchivalCodeParts("A439", "WS", 2015, "D30", 5, "003"),
            "A439-WS·2015·D30·003-005",
        ),
        (DAT13_2022, 3, ArchivalCodeParts("Z008", "WS", 2019, "Y", 37), "Z008-WS·2019·Y-037"),
        (
            DAT22_2015,
            4,
            ArchivalCodeParts("Z109", "WS", 2024, "Y", 12345, "BGS"),
            "Z109-WS·2024-Y-BGS-12345",
        ),
    ],
)
def test_known_examples(template: str, width: int, parts: ArchivalCodeParts, code: str) -> None:
    fmt = ArchivalCodeFormat(template, piece_width=width)
    assert fmt.format(parts) == code
    assert fmt.parse(code) == parts


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("Z10-WS·2024-Y-BGS-0001", {"archival_code.fonds"}),
        ("Z109-ws·2024-Y-BGS-0001", {"archival_code.category"}),
        ("Z109-WS·24-Y-BGS-0001", {"archival_code.year"}),
        ("Z109-WS·2024-X-BGS-0001", {"archival_code.retention"}),
        ("Z109-WS·2024-Y-BGS-1", {"archival_code.piece"}),  # not zero-padded
        ("Z109-WS·2024-Y-BGS-00001", {"archival_code.piece"}),  # over-padded
        ("Z109-WS·2024-Y-BGS-0000", {"archival_code.piece"}),
        (
            "Z10-ws·24-X-BGS-01",
            {f"archival_code.{p}" for p in ("fonds", "category", "year", "retention", "piece")},
        ),
        ("Z109-WS-2024-Y-BGS-0001", {"archival_code"}),  # wrong separator
        ("garbage", {"archival_code"}),
        ("", {"archival_code"}),
    ],
)
def test_parse_rejects_malformed(code: str, expected: set[str]) -> None:
    fmt = ArchivalCodeFormat()
    parts, problems = fmt.try_parse(code)
    assert parts is None
    assert {p.field for p in problems} == expected
    with pytest.raises(InvalidInputError) as caught:
        fmt.parse(code)
    assert caught.value.problems == problems


def test_format_validates_parts() -> None:
    bad = ArchivalCodeParts("Z1", "W", 24, "P", 0, "B-S")
    with pytest.raises(InvalidInputError) as caught:
        ArchivalCodeFormat().format(bad)
    assert {p.code for p in caught.value.problems} == {
        "bad_fonds",
        "bad_category",
        "bad_year",
        "bad_retention",
        "bad_org",
        "bad_piece",
    }


@pytest.mark.parametrize(
    "template",
    [
        "{fonds}-{category}·{year}-{retention}",  # no piece
        "{org}-{fonds}-{category}·{year}-{retention}-{piece}",  # org first
        "{fonds}-{category}{year}-{retention}-{piece}",  # no separator
        "{fonds}-{category}·{year}-{retention}-{piece}-{box}",  # unknown field
    ],
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(ConfigurationError):
        ArchivalCodeFormat(template)


def test_scope_and_next_piece() -> None:
    a = ArchivalCodeParts("Z109", "WS", 2024, "Y", 1, "BGS")
    b = ArchivalCodeParts("Z109", "WS", 2024, "Y", 9, "BGS")
    c = ArchivalCodeParts("Z109", "WS", 2024, "D30", 1, "BGS")
    assert scope_key(a) == scope_key(b) == ("Z109", "WS", 2024, "Y", "BGS")
    assert scope_key(a) != scope_key(c)
    assert next_piece(None) == 1
    assert next_piece(0) == 1
    assert next_piece(41) == 42
    with pytest.raises(InvalidInputError):
        next_piece(-1)


def test_continuity_complete() -> None:
    assert check_continuity([3, 1, 2]) == []
    assert check_continuity([]) == []


def test_continuity_finds_gaps_duplicates_and_invalid() -> None:
    issues = check_continuity([2, 3, 3, 3, 7, 0, -1])
    summary = [(i.kind, i.first, i.last, i.count) for i in issues]
    assert summary == [
        ("invalid", -1, -1, 1),
        ("invalid", 0, 0, 1),
        ("gap", 1, 1, 1),
        ("duplicate", 3, 3, 3),
        ("gap", 4, 6, 1),
    ]
    problems = [i.to_problem() for i in issues]
    assert [p.code for p in problems] == [
        "bad_piece",
        "bad_piece",
        "piece_gap",
        "piece_duplicate",
        "piece_gap",
    ]
    assert "4–6" in problems[-1].zh


@given(st.lists(st.integers(1, 200), max_size=60))
def test_continuity_matches_set_arithmetic(pieces: list[int]) -> None:
    issues = check_continuity(pieces)
    missing = {n for i in issues if i.kind == "gap" for n in range(i.first, i.last + 1)}
    dupes = {i.first for i in issues if i.kind == "duplicate"}
    top = max(pieces, default=0)
    assert missing == set(range(1, top + 1)) - set(pieces)
    assert dupes == {n for n in pieces if pieces.count(n) > 1}
