"""档号 (archival code): configurable template, formatting, parsing and piece numbering.

DA/T 22-2015: 全宗号-档案门类代码·年度-保管期限代码-机构（问题）代码-件号, e.g.
``Z109-WS·2024-Y-BGS-0001``. DA/T 13-2022 joins the class codes with "·" instead:
``Z109-WS·2011·Y·BGS-0001``. When a fonds is not classified by 机构/问题 the org segment and
the separator before it are left out (``Z109-WS·2024-Y-0001``).

件号 runs from 1 without gaps within the lowest class (`scope_key`); DA/T 70 item GD-2-6 checks
that with `check_continuity`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dangan.core.errors import ConfigurationError, InvalidInputError, Problem

DAT22_2015 = "{fonds}-{category}·{year}-{retention}-{org}-{piece}"
DAT13_2022 = "{fonds}-{category}·{year}·{retention}·{org}-{piece}"

_REQUIRED = ("fonds", "category", "year", "retention", "piece")
_FIELDS = frozenset((*_REQUIRED, "org"))

_FONDS = re.compile(r"[A-Z0-9]{4}")
_CATEGORY = re.compile(r"[A-Z]{2}")
_YEAR = re.compile(r"\d{4}")
_RETENTION = re.compile(r"Y|D[1-9]\d*")
_ORG = re.compile(r"[A-Za-z0-9\u4e00-\u9fff]{1,20}")
_PIECE = re.compile(r"\d+")


@dataclass(frozen=True)
class ArchivalCodeParts:
    fonds: str
    category: str
    year: int
    retention: str
    piece: int
    org: str | None = None


ScopeKey = tuple[str, str, int, str, str | None]


def scope_key(parts: ArchivalCodeParts) -> ScopeKey:
    """The numbering scope: 件号 are continuous from 1 within one scope."""
    return (parts.fonds, parts.category, parts.year, parts.retention, parts.org)


def _problem(part: str, code: str, zh: str, en: str) -> Problem:
    return Problem(field=f"archival_code.{part}", code=code, zh=zh, en=en)


_TEXT_RULES: dict[str, tuple[re.Pattern[str], str, str]] = {
    "fonds": (_FONDS, "全宗号应为 4 位大写字母或数字（如 Z109）", "fonds must be 4 A-Z/0-9"),
    "category": (_CATEGORY, "门类代码应为 2 位大写字母（如 WS）", "category must be 2 A-Z"),
    "retention": (
        _RETENTION,
        "保管期限代码应为 Y 或 D 加年数（如 D30）",
        "retention must be Y or D followed by years (e.g. D30)",
    ),
    "org": (
        _ORG,
        "机构（问题）代码应为 1–20 位字母、数字或汉字",
        "org must be 1-20 letters, digits or Chinese characters",
    ),
}


def _check_text(part: str, value: str) -> list[Problem]:
    pattern, zh, en = _TEXT_RULES[part]
    if pattern.fullmatch(value):
        return []
    return [_problem(part, f"bad_{part}", f"{zh}，收到“{value}”", f"{en}; got {value!r}")]


def validate_parts(parts: ArchivalCodeParts) -> list[Problem]:
    """Every problem with the parts of one archival code."""
    problems = _check_text("fonds", parts.fonds)
    problems += _check_text("category", parts.category)
    if not 1000 <= parts.year <= 9999:
        problems.append(
            _problem(
                "year",
                "bad_year",
                f"年度应为 4 位公历年，收到 {parts.year}",
                f"year must have 4 digits; got {parts.year}",
            )
        )
    problems += _check_text("retention", parts.retention)
    if parts.org is not None:
        problems += _check_text("org", parts.org)
    if parts.piece < 1:
        problems.append(
            _problem(
                "piece",
                "bad_piece",
                f"件号应为正整数，收到 {parts.piece}",
                f"piece must be a positive integer; got {parts.piece}",
            )
        )
    return problems


@dataclass(frozen=True)
class _Segment:
    literal: str  # text before the field
    name: str | None  # None for the trailing literal


class ArchivalCodeFormat:
    """One archival code layout, e.g. `ArchivalCodeFormat(DAT13_2022, piece_width=3)`."""

    def __init__(self, template: str = DAT22_2015, piece_width: int = 4) -> None:
        if piece_width < 1:
            raise ConfigurationError(
                code="bad_archival_code_template",
                zh="件号位数应为正整数",
                en="piece_width must be positive",
            )
        self.template = template
        self.piece_width = piece_width
        self._segments = self._split(template)
        separators = "".join(sorted({c for s in self._segments for c in s.literal}))
        self._strict = re.compile(self._regex(strict=True))
        # Loose form: any run of non-separator characters per field, so a malformed code
        # still splits into parts and each bad part gets its own problem.
        self._loose_field = f"[^{re.escape(separators)}]*" if separators else ".*?"
        self._loose = re.compile(self._regex(strict=False))

    @staticmethod
    def _split(template: str) -> list[_Segment]:
        tokens = re.split(r"\{(\w+)\}", template)
        names = tokens[1::2]
        counts = Counter(names)
        bad = [n for n in names if n not in _FIELDS]
        missing = [n for n in _REQUIRED if counts[n] != 1]
        if bad or missing or counts["org"] > 1 or (names and names[0] == "org"):
            raise ConfigurationError(
                code="bad_archival_code_template",
                zh=f"档号模板“{template}”无效：需各含一次 {'、'.join(_REQUIRED)}，"
                "{org} 至多一次且不能居首",
                en=f"bad archival code template {template!r}: needs each of "
                f"{', '.join(_REQUIRED)} once and {{org}} at most once, not first",
            )
        segments = [_Segment(tokens[i], tokens[i + 1]) for i in range(0, len(tokens) - 1, 2)]
        segments.append(_Segment(tokens[-1], None))
        for seg in segments[1:-1]:
            if not seg.literal:
                raise ConfigurationError(
                    code="bad_archival_code_template",
                    zh=f"档号模板“{template}”中字段之间必须有分隔符",
                    en=f"archival code template {template!r} needs a separator between fields",
                )
        return segments

    def _field_regex(self, name: str, strict: bool) -> str:
        if not strict:
            return f"(?P<{name}>{self._loose_field})"
        pattern = {
            "fonds": _FONDS.pattern,
            "category": _CATEGORY.pattern,
            "year": _YEAR.pattern,
            "retention": _RETENTION.pattern,
            "org": _ORG.pattern,
            "piece": r"\d+",
        }[name]
        return f"(?P<{name}>{pattern})"

    def _regex(self, strict: bool) -> str:
        out = []
        for seg in self._segments:
            lit = re.escape(seg.literal)
            if seg.name is None:
                out.append(lit)
            elif seg.name == "org":
                out.append(f"(?:{lit}{self._field_regex('org', strict)})?")
            else:
                out.append(lit + self._field_regex(seg.name, strict))
        return "".join(out)

    def format(self, parts: ArchivalCodeParts) -> str:
        problems = validate_parts(parts)
        if problems:
            raise InvalidInputError.of(problems)
        values = {
            "fonds": parts.fonds,
            "category": parts.category,
            "year": f"{parts.year:04d}",
            "retention": parts.retention,
            "org": parts.org,
            "piece": f"{parts.piece:0{self.piece_width}d}",
        }
        out = []
        for seg in self._segments:
            if seg.name == "org" and parts.org is None:
                continue  # the org segment and its leading separator go together
            out.append(seg.literal)
            if seg.name is not None:
                out.append(str(values[seg.name]))
        return "".join(out)

    def try_parse(self, code: str) -> tuple[ArchivalCodeParts | None, list[Problem]]:
        """Parse `code`; on failure return every problem found instead of raising."""
        match = self._strict.fullmatch(code) or self._loose.fullmatch(code)
        if match is None:
            return None, [
                Problem(
                    field="archival_code",
                    code="malformed_archival_code",
                    zh=f"档号“{code}”不符合格式 {self.template}",
                    en=f"archival code {code!r} does not follow {self.template}",
                )
            ]
        got = match.groupdict()
        problems: list[Problem] = []
        for part in ("fonds", "category", "retention"):
            problems += _check_text(part, got[part] or "")
        if got["org"] is not None:
            problems += _check_text("org", got["org"])
        year = got["year"] or ""
        if not _YEAR.fullmatch(year):
            problems.append(
                _problem(
                    "year",
                    "bad_year",
                    f"年度应为 4 位数字，收到“{year}”",
                    f"year must be 4 digits; got {year!r}",
                )
            )
        piece = got["piece"] or ""
        problems += self._check_piece(piece)
        if problems:
            return None, problems
        return (
            ArchivalCodeParts(
                fonds=got["fonds"],
                category=got["category"],
                year=int(year),
                retention=got["retention"],
                org=got["org"],
                piece=int(piece),
            ),
            [],
        )

    def _check_piece(self, piece: str) -> list[Problem]:
        width = self.piece_width
        # Exactly one spelling per number: zero-padded to `width`, wider only when needed.
        canonical = (
            _PIECE.fullmatch(piece) is not None
            and int(piece) > 0
            and piece == f"{int(piece):0{width}d}"
        )
        if canonical:
            return []
        return [
            _problem(
                "piece",
                "bad_piece",
                f"件号应为正整数，补零至 {width} 位，收到“{piece}”",
                f"piece must be a positive integer zero-padded to {width} digits; got {piece!r}",
            )
        ]

    def parse(self, code: str) -> ArchivalCodeParts:
        parts, problems = self.try_parse(code)
        if parts is None:
            raise InvalidInputError.of(problems)
        return parts


def next_piece(existing_max: int | None) -> int:
    """The next 件号 in a scope whose highest number so far is `existing_max`."""
    if existing_max is None:
        return 1
    if existing_max < 0:
        raise InvalidInputError.of(
            [
                _problem(
                    "piece",
                    "bad_piece",
                    f"现有最大件号不能为负：{existing_max}",
                    f"existing maximum piece cannot be negative: {existing_max}",
                )
            ]
        )
    return existing_max + 1


@dataclass(frozen=True)
class ContinuityIssue:
    """A gap (first..last missing), a duplicate (first == last, `count` times) or an invalid
    number (< 1) in one scope's 件号 sequence."""

    kind: Literal["gap", "duplicate", "invalid"]
    first: int
    last: int
    count: int = 1

    def to_problem(self, field: str = "archival_code.piece") -> Problem:
        if self.kind == "gap":
            span = str(self.first) if self.first == self.last else f"{self.first}–{self.last}"
            return Problem(
                field, "piece_gap", f"件号不连续，缺少 {span}", f"piece numbers {span} missing"
            )
        if self.kind == "duplicate":
            return Problem(
                field,
                "piece_duplicate",
                f"件号 {self.first} 重复 {self.count} 次",
                f"piece number {self.first} used {self.count} times",
            )
        return Problem(
            field,
            "bad_piece",
            f"件号 {self.first} 不是正整数",
            f"piece number {self.first} is not positive",
        )


def check_continuity(pieces: Iterable[int]) -> list[ContinuityIssue]:
    """Gaps, duplicates and invalid numbers in one scope; empty when 1..n is complete."""
    counts = Counter(pieces)
    issues: list[ContinuityIssue] = [
        ContinuityIssue("invalid", n, n, c) for n, c in sorted(counts.items()) if n < 1
    ]
    expected = 1
    for n in sorted(k for k in counts if k >= 1):
        if n > expected:
            issues.append(ContinuityIssue("gap", expected, n - 1))
        if counts[n] > 1:
            issues.append(ContinuityIssue("duplicate", n, n, counts[n]))
        expected = n + 1
    return issues
