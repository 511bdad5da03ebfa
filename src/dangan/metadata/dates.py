"""Dates at the precision they are known: a day, a month or only a year.

Archives hold documents dated only by year (`2019`, `2019年`) or by month (`2019-05`,
`2019年5月`). Such a date is stored as the ISO 8601 prefix it was given at — `2019`,
`2019-05`, `2019-05-17` — so its precision is its length, and text order is date order on
every database (a coarser date sorts just before the finer dates it contains).

Forms accepted (whole string, after stripping):

  day    YYYY-MM-DD, YYYYMMDD, YYYY年M月D日 (M, D one or two digits)
  month  YYYY-MM, YYYYMM, YYYY年M月
  year   YYYY, YYYY年

The digit-only forms differ by length (4, 6, 8), so `YYYYMMDD` stays a day. Years run
0001–9999. Undated (`is_undated`): an empty value or one of `UNDATED_WORDS`.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from typing import Literal

Precision = Literal["year", "month", "day"]
PRECISIONS: dict[int, Precision] = {4: "year", 7: "month", 10: "day"}

# Words a producer writes for "no date": the record is undated, not wrongly dated.
UNDATED_WORDS = frozenset(
    {"不详", "日期不详", "无日期", "无", "未知", "undated", "unknown", "n.d."}
)

_FORMS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月"),
    re.compile(r"(?P<y>\d{4})年?"),
)


class DateError(ValueError):
    """Why a text is not a date, in Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    @property
    def text(self) -> str:
        """The stored form: YYYY, YYYY-MM or YYYY-MM-DD."""
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
        if self.day is not None:
            out += f"-{self.day:02d}"
        return out


def is_undated(text: str) -> bool:
    """True for an empty value or a word meaning "no date" (不详, 无日期, undated…)."""
    value = text.strip()
    return not value or value.lower() in UNDATED_WORDS


def parse_date(text: str) -> PartialDate:
    """The date `text` names, at its precision; `DateError` says what is wrong."""
    value = text.strip()
    for form in _FORMS:
        m = form.fullmatch(value)
        if m is None:
            continue
        groups = m.groupdict()
        year = int(groups["y"])
        month = int(groups["m"]) if groups.get("m") else None
        day = int(groups["d"]) if groups.get("d") else None
        return _checked(year, month, day)
    raise DateError(
        "格式应为 YYYY、YYYY年、YYYY-MM、YYYYMM、YYYY年M月、YYYY-MM-DD、YYYYMMDD 或 YYYY年M月D日",
        "use YYYY, YYYY年, YYYY-MM, YYYYMM, YYYY年M月, YYYY-MM-DD, YYYYMMDD or YYYY年M月D日",
    )


def _checked(year: int, month: int | None, day: int | None) -> PartialDate:
    if year < 1:
        raise DateError(
            f"年份 {year:04d} 无效（应为 0001–9999）", f"year {year:04d} is not 0001-9999"
        )
    if month is not None and not 1 <= month <= 12:
        raise DateError(f"月份 {month} 无效（应为 1–12）", f"month {month} is not 1-12")
    if day is not None and month is not None:
        last = monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise DateError(
                f"{year} 年 {month} 月没有 {day} 日（该月共 {last} 天）",
                f"{year}-{month:02d} has no day {day} (it has {last} days)",
            )
    return PartialDate(year, month, day)


def precision_of(stored: str | None) -> Precision | None:
    """The precision of a stored date (None when undated or not a stored date)."""
    if not stored:
        return None
    return PRECISIONS.get(len(stored))
