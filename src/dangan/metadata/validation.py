"""Validate and normalise one record's metadata against an element set.

Every problem is reported at once so a producer fixes its metadata in one round trip.

Normalisation decisions:
- keys: Chinese names become English keys;
- strings are stripped; an empty optional value is dropped as if absent, an empty mandatory
  one is an `empty_value` problem;
- text holding a control character is `invalid_characters`; one holding an invisible format
  character (bidirectional controls, zero-width characters, `dangan.core.invisible`) is
  `invisible_character`, so a title cannot display as something else; line and paragraph
  separators are allowed in multi-line ("text") elements only;
- repeatable elements are always lists; a one-item list for a non-repeatable one is unwrapped;
- 日期 is kept at the precision it was given (`dangan.metadata.dates`): a day (YYYYMMDD,
  YYYY-MM-DD, YYYY年M月D日 → YYYY-MM-DD), a month (YYYYMM, YYYY-MM, YYYY年M月 → YYYY-MM) or a
  year (YYYY, YYYY年 → YYYY); ISO prefixes sort and compare as text in date order;
- an undated record (日期 absent, empty, or 不详/无日期/日期不详/undated) is accepted only when
  the caller allows it (`allow_undated`: archiving, which queues it for review);
- 年度 is an int; when absent it is taken from 日期 (DA/T 22: the signing date decides);
- enum values are stored in their canonical spelling (aliases such as 永久 → Y resolved);
- defaults from the element set are applied to absent elements.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import cast

from dangan.core.errors import Problem
from dangan.core.invisible import invisible_problem
from dangan.metadata.dates import DateError, is_undated, parse_date
from dangan.metadata.schema import ElementDef, MetadataSchema, Stage

_YEAR = re.compile(r"\d{4}")
_INTEGER = re.compile(r"[+-]?\d+")
# C0 controls except TAB/LF/CR, DEL, C1 controls, unpaired surrogates, U+FFFE/U+FFFF.
_BAD_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]",
)


def _p(field: str, code: str, zh: str, en: str) -> Problem:
    return Problem(field=field, code=code, zh=zh, en=en)


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(_is_empty(v) for v in value)
    return False


_Checked = tuple[object, list[Problem]]


def _is_date(schema: MetadataSchema, name: str) -> bool:
    el = schema.get(name)
    return el is not None and el.key == "date"


def _text(el: ElementDef, value: object, where: str, name: str) -> _Checked:
    if not isinstance(value, str):
        return None, [_p(where, "bad_type", f"{name}应为文本", f"{el.key} must be a string")]
    if el.max_length is not None and len(value) > el.max_length:
        return None, [
            _p(
                where,
                "too_long",
                f"{name}长度 {len(value)} 超过上限 {el.max_length} 字",
                f"{el.key} is {len(value)} characters; the limit is {el.max_length}",
            )
        ]
    return value, []


def _enum(el: ElementDef, value: object, where: str, name: str) -> _Checked:
    text, problems = _text(el, value, where, name)
    if problems:
        return None, problems
    canonical = el.canonical_value(cast(str, text))
    if canonical is None:
        return None, [
            _p(
                where,
                "unknown_value",
                f"{name}的值“{text}”不在值域内，可用值：{'、'.join(el.values)}",
                f"{el.key} value {text!r} is not allowed; allowed: {', '.join(el.values)}",
            )
        ]
    return canonical, []


def _date(el: ElementDef, value: object, where: str, name: str) -> _Checked:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat(), []
    if not isinstance(value, str):
        return None, [
            _p(
                where,
                "bad_date",
                f"{name}应为文本日期，如 2019、2019-05 或 2019-05-17",
                f"{el.key} must be a date string such as 2019, 2019-05 or 2019-05-17",
            )
        ]
    try:
        return parse_date(value).text, []
    except DateError as exc:
        return None, [
            _p(
                where,
                "bad_date",
                f"{name}“{value}”不是有效日期：{exc.zh}",
                f"{el.key} {value!r} is not a valid date: {exc.en}",
            )
        ]


def _datetime(el: ElementDef, value: object, where: str, name: str) -> _Checked:
    if isinstance(value, datetime):
        return value.isoformat(), []
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat(), []
        except ValueError:
            pass
    return None, [
        _p(
            where,
            "bad_date",
            f"{name}“{value}”不是有效的 ISO 8601 时间",
            f"{el.key} {value!r} is not an ISO 8601 date-time",
        )
    ]


def _year(el: ElementDef, value: object, where: str, name: str) -> _Checked:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not (isinstance(text, str) and _YEAR.fullmatch(text)):
        return None, [
            _p(
                where,
                "bad_year",
                f"{name}“{value}”应为 4 位公历年",
                f"{el.key} {value!r} must be a 4-digit year",
            )
        ]
    return int(text), []


def _integer(el: ElementDef, value: object, where: str, name: str) -> _Checked:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    if number is None:
        return None, [_p(where, "bad_type", f"{name}应为整数", f"{el.key} must be an integer")]
    if el.minimum is not None and number < el.minimum:
        return None, [
            _p(
                where,
                "out_of_range",
                f"{name}不能小于 {el.minimum}",
                f"{el.key} must be at least {el.minimum}",
            )
        ]
    return number, []


_CHECKERS = {
    "string": _text,
    "text": _text,
    "enum": _enum,
    "date": _date,
    "datetime": _datetime,
    "year": _year,
    "integer": _integer,
}


def _one(el: ElementDef, value: object, where: str) -> _Checked:
    """Check and normalise one scalar value of element `el`."""
    name = f"{el.zh}（{el.key}）"
    if isinstance(value, str):
        bad = _BAD_CHARS.search(value)
        if bad:
            return None, [
                _p(
                    where,
                    "invalid_characters",
                    f"{name}含有不可用字符 U+{ord(bad.group()):04X}（控制字符或孤立代理）",
                    f"{el.key} contains a disallowed character U+{ord(bad.group()):04X} "
                    "(control character or unpaired surrogate)",
                )
            ]
        hidden = invisible_problem(where, value, name, el.key, multiline=el.type == "text")
        if hidden is not None:
            return None, [hidden]
        value = value.strip()
    return _CHECKERS[el.type](el, value, where, name)


def _element_value(el: ElementDef, raw: object) -> tuple[object, list[Problem]]:
    items: list[object]
    if isinstance(raw, list | tuple):
        items = [v for v in raw if not _is_empty(v)]
        if not el.repeatable and len(items) > 1:
            return None, [
                _p(
                    el.key,
                    "not_repeatable",
                    f"{el.zh}（{el.key}）不可重复，只能有一个值，收到 {len(items)} 个",
                    f"{el.key} is not repeatable but {len(items)} values were given",
                )
            ]
    else:
        items = [raw]
    out: list[object] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        where = f"{el.key}[{i}]" if el.repeatable and len(items) > 1 else el.key
        value, found = _one(el, item, where)
        problems.extend(found)
        out.append(value)
    if problems:
        return None, problems
    return (out if el.repeatable else out[0]), []


def _read(
    schema: MetadataSchema, metadata: Mapping[str, object], required: set[str]
) -> tuple[dict[str, object], set[str], list[Problem]]:
    """Resolve names and check each supplied value; return (values, failed keys, problems)."""
    problems: list[Problem] = []
    normalised: dict[str, object] = {}
    seen_as: dict[str, str] = {}
    failed: set[str] = set()  # keys already reported; no second missing_mandatory for them
    for name, raw in metadata.items():
        el = schema.get(name)
        if el is None:
            problems.append(
                _p(
                    name,
                    "unknown_field",
                    f"元数据方案 {schema.category} 中没有元素“{name}”",
                    f"schema {schema.category} has no element {name!r}",
                )
            )
            continue
        if el.key in seen_as:
            failed.add(el.key)
            normalised.pop(el.key, None)  # neither spelling wins silently
            problems.append(
                _p(
                    el.key,
                    "duplicate_field",
                    f"{el.zh}同时以“{seen_as[el.key]}”和“{name}”提供",
                    f"{el.key} was given twice, as {seen_as[el.key]!r} and {name!r}",
                )
            )
            continue
        seen_as[el.key] = name
        if _is_empty(raw):
            if el.key in required:
                failed.add(el.key)
                problems.append(
                    _p(
                        el.key,
                        "empty_value",
                        f"必选元素{el.zh}（{el.key}）为空",
                        f"mandatory element {el.key} is empty",
                    )
                )
            continue
        value, found = _element_value(el, raw)
        if found:
            failed.add(el.key)
            problems.extend(found)
        else:
            normalised[el.key] = value
    return normalised, failed, problems


def validate(
    schema: MetadataSchema,
    metadata: Mapping[str, object],
    stage: Stage,
    *,
    require: Collection[str] = (),
    allow_undated: bool = False,
) -> tuple[dict[str, object], list[Problem]]:
    """Check `metadata` against `schema` for `stage`; return (normalised, problems).

    At "submission" only producer-sourced mandatory elements must be present; system-sourced
    ones (档号 parts, file attributes, process metadata) are filled in before "archive".
    `require` promotes conditional elements (e.g. organizational_unit) to required.
    `allow_undated`: an absent, empty or "unknown" (不详…) 日期 is no problem and is dropped;
    the caller decides what an undated record needs (archiving queues it for review).
    """
    required = {el.key for el in schema.elements if el.required_at(stage) or el.key in require}
    if allow_undated and "date" in schema:
        required.discard("date")
        metadata = {
            name: raw
            for name, raw in metadata.items()
            if not (_is_date(schema, name) and isinstance(raw, str) and is_undated(raw))
        }
    normalised, failed, problems = _read(schema, metadata, required)

    # 年度 follows 日期 unless given.
    given_date = normalised.get("date")
    if (
        "year" in schema
        and "year" not in normalised.keys() | failed
        and isinstance(given_date, str)
    ):
        normalised["year"] = int(given_date[:4])

    for el in schema.elements:
        if el.key in normalised or el.key in failed:
            continue
        if el.default is not None:
            normalised[el.key] = [el.default] if el.repeatable else el.default
        elif el.key in required:
            problems.append(
                _p(
                    el.key,
                    "missing_mandatory",
                    f"缺少必选元素{el.zh}（{el.key}）",
                    f"mandatory element {el.key} ({el.en}) is missing",
                )
            )
    return normalised, problems
