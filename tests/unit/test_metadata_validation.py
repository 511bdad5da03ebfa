"""DA/T 46 element set and metadata validation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dangan.core.errors import ConfigurationError, NotFoundError, Problem
from dangan.core.invisible import strip_invisible
from dangan.metadata import SchemaRegistry, validate, ws_schema
from dangan.metadata.dates import DateError, is_undated, parse_date, precision_of

GOOD = {
    "题名": " 关于印发《档案管理办法》的通知 ",
    "责任者": "某省某厅",
    "日期": "20240301",
    "密级": "公开",
}


def codes(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in problems}


def test_element_set_lookup_by_key_and_chinese_name() -> None:
    schema = ws_schema()
    assert schema.get("题名") is schema.get("title")
    assert schema["保管期限"].number == "M12"
    assert schema["retention_period"].label("Y") == "永久"
    assert "bogus" not in schema


def test_submission_requires_only_producer_mandatory_elements() -> None:
    required = {el.key for el in ws_schema().required("submission")}
    assert required == {
        "title",
        "author",
        "date",
        "security_classification",
        "document_aggregation_type",
    }
    archive = {el.key for el in ws_schema().required("archive")}
    # GB/T 18894 minimum and DA/T 48 XSD: system-derived elements are required at archiving.
    assert {
        "retention_period",
        "year",
        "agency_item_number",
        "computer_file_name",
        "computer_file_size",
        "format_information",
        "document_creating_application",
        "business_activity",
        "action_time",
        "agent_name",
        "fonds_constituting_unit_name",
    } <= archive


def test_valid_submission_is_normalised() -> None:
    normalised, problems = validate(ws_schema(), GOOD, "submission")
    assert problems == []
    assert normalised["title"] == "关于印发《档案管理办法》的通知"
    assert normalised["author"] == ["某省某厅"]  # repeatable → list
    assert normalised["date"] == "2024-03-01"
    assert normalised["year"] == 2024  # derived from 日期
    assert normalised["language"] == ["汉语"]  # default
    assert normalised["document_aggregation_type"] == "单件"
    assert "retention_period" not in normalised


def test_same_record_fails_archive_stage_for_system_elements() -> None:
    _, problems = validate(ws_schema(), GOOD, "archive")
    missing = {p.field for p in problems if p.code == "missing_mandatory"}
    assert "retention_period" in missing
    assert "computer_file_name" in missing
    assert "title" not in missing


def test_every_problem_reported_at_once() -> None:
    metadata = {
        "title": "x" * 1001,
        "日期": "2024-02-30",
        "年度": "24",
        "密级": "保密",
        "abstract": "bad\x00byte",
        "keywords": ["ok", "bad\ud800"],
        "pages": "many",
        "document_type": ["通知", "函"],
        "color": "red",
        "retention_period": "长期",
    }
    _, problems = validate(ws_schema(), metadata, "submission")
    assert codes(problems) == {
        ("title", "too_long"),
        ("date", "bad_date"),
        ("year", "bad_year"),
        ("security_classification", "unknown_value"),
        ("abstract", "invalid_characters"),
        ("keywords[1]", "invalid_characters"),
        ("pages", "bad_type"),
        ("document_type", "not_repeatable"),
        ("color", "unknown_field"),
        ("retention_period", "unknown_value"),
        ("author", "missing_mandatory"),
    }
    unknown = next(p for p in problems if p.field == "security_classification")
    assert "公开、内部、非密、秘密、机密、绝密" in unknown.zh
    assert "'保密'" in unknown.en


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20240301", "2024-03-01"),
        ("2024-03-01", "2024-03-01"),
        ("2024年3月1日", "2024-03-01"),
        (date(2024, 3, 1), "2024-03-01"),
    ],
)
def test_date_forms(raw: object, expected: str) -> None:
    normalised, problems = validate(ws_schema(), {**GOOD, "日期": raw}, "submission")
    assert problems == []
    assert normalised["date"] == expected


# 240301 is no longer here: six digits are YYYYMM (2403-01), see test_partial_date_forms.
@pytest.mark.parametrize("raw", ["2024-3-1", "20241301", "2024/03/01", "24031", 20240301])
def test_bad_dates(raw: object) -> None:
    _, problems = validate(ws_schema(), {**GOOD, "日期": raw}, "submission")
    assert codes(problems) == {("date", "bad_date")}


@pytest.mark.parametrize(
    ("field", "raw", "stored"),
    [
        ("保管期限", "永久", "Y"),
        ("保管期限", "定期10年", "D10"),
        ("retention_period", "D30", "D30"),
        ("文种", "命令(令)", "命令"),
        ("文种", "规章/规范性文件", "规范性文件"),
        ("文种", "会议纪要", "纪要"),
        ("紧急程度", "特提", "特提"),
        ("稿本", "试行本", "试行本"),
        ("密级", "非密", "非密"),  # kept as written: not a synonym of 公开
    ],
)
def test_enum_aliases_resolve_to_stored_value(field: str, raw: str, stored: str) -> None:
    normalised, problems = validate(ws_schema(), {**GOOD, field: raw}, "submission")
    assert problems == []
    key = ws_schema()[field].key
    assert normalised[key] == stored


def test_empty_values() -> None:
    metadata = {**GOOD, "题名": "   ", "文件编号": "", "keywords": []}
    normalised, problems = validate(ws_schema(), metadata, "submission")
    # Empty mandatory → empty_value; empty optional → dropped as absent.
    assert codes(problems) == {("title", "empty_value")}
    assert "document_number" not in normalised
    assert "keywords" not in normalised


def test_duplicate_key_in_both_languages() -> None:
    normalised, problems = validate(ws_schema(), {**GOOD, "title": "另一个"}, "submission")
    assert codes(problems) == {("title", "duplicate_field")}
    assert "title" not in normalised


def test_single_item_list_unwrapped_and_integers_parsed() -> None:
    metadata = {**GOOD, "题名": ["唯一题名"], "页数": "12", "年度": 2023}
    normalised, problems = validate(ws_schema(), metadata, "submission")
    assert problems == []
    assert normalised["title"] == "唯一题名"
    assert normalised["pages"] == 12
    assert normalised["year"] == 2023  # given year wins over 日期


def test_conditional_element_can_be_required() -> None:
    _, problems = validate(ws_schema(), GOOD, "submission", require=["organizational_unit"])
    assert codes(problems) == {("organizational_unit", "missing_mandatory")}


def test_registry_new_category_from_data_file(tmp_path: Path) -> None:
    path = tmp_path / "kj.toml"
    path.write_text(
        '[schema]\ncategory = "KJ"\n\n[[elements]]\nkey = "title"\nzh = "题名"\nen = "Title"\n'
        'obligation = "mandatory"\ntype = "string"\nsource = "producer"\n',
        encoding="utf-8",
    )
    registry = SchemaRegistry()
    registry.register("kj", path)
    assert registry.categories() == ("KJ", "WS")
    assert SchemaRegistry.default().get("WS") is not None
    schema = registry.get("KJ")
    _, problems = validate(schema, {"题名": "图纸"}, "archive")
    assert problems == []
    with pytest.raises(NotFoundError):
        registry.get("ZP")


def test_registry_rejects_bad_data(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[schema]\ncategory = "ZP"\n\n[[elements]]\nkey = "x"\nzh = "x"\nen = "x"\n'
        'obligation = "sometimes"\ntype = "string"\nsource = "producer"\n',
        encoding="utf-8",
    )
    registry = SchemaRegistry()
    registry.register("ZP", path)
    with pytest.raises(ConfigurationError):
        registry.get("ZP")


# --- invisible and bidirectional format characters ------------------------------------------

# The characters that can make text display as something else (dangan.core.invisible).
BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
ZERO_WIDTH = [*range(0x200B, 0x2010)]
KIN = [0x061C, 0xFEFF, 0x2060, 0x2063, 0x206A, 0x206F, 0xFFF9, 0xE0001, 0xE0041]
INVISIBLE = BIDI + ZERO_WIDTH + KIN
LINE_BREAKS = [0x2028, 0x2029]
BASE = {
    "title": "通知",
    "author": "某省某厅",
    "date": "20240301",
    "security_classification": "公开",
}
# (element, a valid value with {} where the character goes); each a display field.
DISPLAY_FIELDS = [
    ("title", "关于印发{}《档案管理办法》的通知"),
    ("author", "示范省{}应急管理厅"),
    ("keywords", "安全{}生产"),
    ("document_number", "示档发〔2024〕{}3号"),
    ("department", "办公{}室"),
    ("principal_receiver", "各市{}档案局"),
    ("abstract", "第一段{}第二段"),
]


@pytest.mark.parametrize("cp", INVISIBLE + LINE_BREAKS, ids=lambda cp: f"U+{cp:04X}")
def test_invisible_characters_are_refused_naming_field_and_code_point(cp: int) -> None:
    for key, template in DISPLAY_FIELDS:
        if cp in LINE_BREAKS and key == "abstract":
            continue  # multi-line text may break lines
        value = template.format(chr(cp))
        normalised, problems = validate(ws_schema(), {**BASE, key: value}, "submission")
        [problem] = problems
        assert (problem.field, problem.code) == (key, "invisible_character")
        assert f"U+{cp:04X}" in problem.zh
        assert f"U+{cp:04X}" in problem.en
        assert key in problem.zh
        assert key in problem.en
        assert key not in normalised


def test_each_value_of_a_repeatable_element_is_checked() -> None:
    _, problems = validate(
        ws_schema(), {**BASE, "author": ["示范省应急管理厅", "示范省\u202e财政厅"]}, "submission"
    )
    assert codes(problems) == {("author[1]", "invisible_character")}
    assert "第 4 个字符" in problems[0].zh
    assert "at character 4" in problems[0].en


def test_ordinary_text_is_accepted() -> None:
    title = "关于印发《档案管理办法（2024年修订）》的通知——第一号：“重要”！？、；…"
    abstract = "第一段：依据《档案法》。\n第二段，见附件；\r\n第三段\u2028第四段\u2029第五段\t完。"
    metadata = {
        **BASE,
        "title": title,
        "author": ["示范省应急管理厅", "ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ", "وزارة"],  # Mongolian, Arabic: no marks
        "keywords": ["Ａ股", "２０２４年"],  # full-width Latin and digits
        "abstract": abstract,
        "annotation": ["附注一\n附注二"],
    }
    normalised, problems = validate(ws_schema(), metadata, "submission")
    assert problems == []
    assert normalised["title"] == title
    assert normalised["abstract"] == abstract.strip()


def test_names_from_an_identity_provider_are_cleaned_not_refused() -> None:
    assert strip_invisible("张\u202e三\u200d（借调）\u2028") == "张三（借调）"


@pytest.mark.parametrize(
    ("raw", "stored", "precision", "year"),
    [
        ("2019", "2019", "year", 2019),
        ("2019年", "2019", "year", 2019),
        (" 2019年 ", "2019", "year", 2019),
        ("2019-05", "2019-05", "month", 2019),
        ("2019年5月", "2019-05", "month", 2019),
        ("2019年12月", "2019-12", "month", 2019),
        ("201905", "2019-05", "month", 2019),
        ("20190517", "2019-05-17", "day", 2019),  # eight digits stay a day
        ("2019-05-17", "2019-05-17", "day", 2019),
        ("2019年5月17日", "2019-05-17", "day", 2019),
        ("2020-02-29", "2020-02-29", "day", 2020),
    ],
)
def test_partial_date_forms(raw: str, stored: str, precision: str, year: int) -> None:
    assert parse_date(raw).text == stored
    assert parse_date(raw).precision == precision
    normalised, problems = validate(ws_schema(), {**GOOD, "日期": raw}, "submission")
    assert problems == []
    assert normalised["date"] == stored
    assert precision_of(normalised["date"]) == precision  # type: ignore[arg-type]
    assert normalised["year"] == year  # 年度 from a year- or month-precision date too


@pytest.mark.parametrize(
    ("raw", "zh", "en"),
    [
        ("2019-13", "月份 13 无效", "month 13"),
        ("201913", "月份 13 无效", "month 13"),
        ("2019年13月", "月份 13 无效", "month 13"),
        ("2019-00", "月份 0 无效", "month 0"),
        ("2019-02-30", "2019 年 2 月没有 30 日", "has no day 30"),
        ("20190230", "2019 年 2 月没有 30 日", "has no day 30"),
        ("0000", "年份 0000 无效", "year 0000"),
        ("0000-05", "年份 0000 无效", "year 0000"),
        ("2019-5", "格式应为", "use YYYY"),
        ("19年", "格式应为", "use YYYY"),
        ("2019年5", "格式应为", "use YYYY"),
    ],
)
def test_bad_partial_dates_name_the_field_and_the_fault(raw: str, zh: str, en: str) -> None:
    _, problems = validate(ws_schema(), {**GOOD, "日期": raw}, "submission")
    assert codes(problems) == {("date", "bad_date")}
    assert "日期（date）" in problems[0].zh
    assert zh in problems[0].zh
    assert "date " in problems[0].en
    assert en in problems[0].en


@pytest.mark.parametrize("raw", [None, "", "  ", "不详", "无日期", "日期不详", "Undated"])
def test_undated_is_accepted_only_when_allowed(raw: object) -> None:
    metadata = {**GOOD, "日期": raw}
    normalised, problems = validate(ws_schema(), metadata, "submission", allow_undated=True)
    assert problems == []
    assert "date" not in normalised
    assert "year" not in normalised  # nothing to derive it from: the archivist decides
    _, strict = validate(ws_schema(), metadata, "submission")
    assert {p.field for p in strict} == {"date"}
    without = {k: v for k, v in GOOD.items() if k not in {"日期", "date"}}
    assert validate(ws_schema(), without, "submission", allow_undated=True)[1] == []


def test_precision_of_a_stored_date() -> None:
    assert precision_of("2019") == "year"
    assert precision_of("2019-05") == "month"
    assert precision_of("2019-05-17") == "day"
    assert precision_of(None) is None
    assert precision_of("") is None
    assert is_undated("不详")
    assert not is_undated("2019")
    with pytest.raises(DateError):
        parse_date("2019-02-29")
