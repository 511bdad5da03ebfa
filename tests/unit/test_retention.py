"""Retention schedule (保管期限表): rules, never-guess classification, org codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.core.errors import ConfigurationError
from dangan.metadata import Schedule, classify, default_schedule, load_schedule, parse_schedule

DEFAULT = default_schedule()


def md(title: str, doc_type: str = "其他", **extra: object) -> dict[str, object]:
    return {"title": title, "document_type": doc_type, "author": ["某省某厅"], **extra}


@pytest.mark.parametrize(
    ("metadata", "retention", "rule"),
    [
        (md("某省档案管理条例", "法规"), "Y", "LAW"),
        (md("关于表彰先进集体的通报", "通报"), "Y", "BULLETIN-HONOUR"),
        (md("关于机构改革的决定", "决定"), "Y", "DECISION"),
        (md("关于征收土地的公告", "公告"), "Y", "ANNOUNCE"),
        (md("厅长办公会议纪要", "纪要"), "Y", "MINUTES"),
        (md("2023年度工作总结", "报告"), "Y", "ANNUAL"),
        (md("关于某项目情况的报告", "报告"), "D30", "REPORT"),
        (md("关于设立某中心的请示", "请示"), "Y", "REQUEST-IMPORTANT"),
        (md("关于某项目环境影响报告书的批复", "批复"), "D30", "REQUEST"),
        (md("关于印发《差旅费管理办法》的通知", "通知"), "Y", "NOTICE-ISSUE"),
        (md("关于调整领导小组成员的通知", "通知"), "Y", "NOTICE-ORG"),
        (md("关于举办档案业务培训班的通知", "通知"), "D10", "NOTICE-ROUTINE"),
        (md("关于做好防汛工作的通知", "通知"), "D30", "NOTICE"),
        (md("关于商请协助调查的函", "函"), "D30", "LETTER"),
        (md("关于征求标准意见的函", "函"), "D10", "NOTICE-ROUTINE"),
        (md("关于实施某战略的实施意见", "意见"), "Y", "OPINION-POLICY"),
        (md("2023年统计年报"), "Y", "STATS-ANNUAL"),
        (md("3月份统计报表"), "D30", "STATS"),
        (md("《某条例》解读"), "D10", "PUBLICITY"),
    ],
)
def test_default_schedule(metadata: dict[str, object], retention: str, rule: str) -> None:
    result = classify(DEFAULT, metadata)
    assert result.classified
    assert (result.retention, result.rule_id) == (retention, rule)
    assert result.confidence >= DEFAULT.threshold
    assert result.as_dict()["retention"] == retention


@pytest.mark.parametrize(
    ("metadata", "reason", "words"),
    [
        (md("某某情况汇总"), "no_rule_matched", "no rule matched"),
        (md("某项目实施方案"), "no_rule_matched", "no rule matched"),
        # Forwarding (D30) a training notice (D10): equal priority, so a person decides.
        (
            md("关于转发《关于举办培训班的通知》的通知", "通知"),
            "rules_disagree",
            "NOTICE-FORWARD says D30",
        ),
        (md("图解《某省促进条例》", "法规"), "rules_disagree", "LAW says Y"),
    ],
)
def test_default_schedule_leaves_ambiguous_unclassified(
    metadata: dict[str, object], reason: str, words: str
) -> None:
    result = classify(DEFAULT, metadata)
    assert not result.classified
    assert result.retention is None
    assert result.org is None
    assert result.reasons[0].code == reason
    assert words in result.reasons[0].en


SCHEDULE = """
[schedule]
id = "t"
threshold = 0.6

[departments]
"办公室" = "BGS"
"人事处" = "RSC"
"财务处" = "CWC"

[[rules]]
id = "A"
description = "决定"
priority = 80
when = { document_type = ["决定"] }
then = { retention = "Y" }

[[rules]]
id = "B"
description = "通知 about 会议"
priority = 80
when = { document_type = ["决定", "通知"], title_any = ["会议"] }
then = { retention = "D10" }

[[rules]]
id = "C"
description = "low confidence guess"
priority = 50
confidence = 0.4
when = { title_any = ["材料"] }
then = { retention = "D10" }

[[rules]]
id = "D"
description = "人事 files by 文号"
priority = 90
when = { document_number = "人发〔\\\\d{4}〕" }
then = { retention = "Y", org = "RSC" }

[[rules]]
id = "E"
description = "all-of and author and department"
priority = 70
when = { title_all = ["预算", "决算"], author_contains = ["财政"], department = "财务处" }
then = { retention = "Y" }

[[rules]]
id = "F"
description = "generic 通知"
priority = 40
when = { document_type = ["通知"] }
then = { retention = "D30" }
"""


@pytest.fixture
def schedule() -> Schedule:
    return parse_schedule(SCHEDULE)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        # (retention, org, rule) or the unclassified reason code
        ({"title": "关于X的决定", "document_type": "决定"}, ("Y", None, "A")),
        ({"title": "关于召开会议的决定", "document_type": "决定"}, "rules_disagree"),
        ({"title": "关于召开会议的通知", "document_type": "通知"}, ("D10", None, "B")),
        ({"title": "关于报送材料的说明"}, "low_confidence"),
        ({"title": "某事", "document_number": "省人发〔2024〕3号"}, ("Y", "RSC", "D")),
        ({"title": "某事", "document_number": "省财发〔2024〕3号"}, "no_rule_matched"),
        (
            {"title": "预算和决算", "author": ["省财政厅"], "department": "财务处"},
            ("Y", "CWC", "E"),
        ),
        ({"title": "预算和决算", "author": ["省财政厅"]}, "no_rule_matched"),
        ({"title": "预算", "author": ["省财政厅"], "department": "财务处"}, "no_rule_matched"),
        # Author ending with an internal department name gives the org.
        (
            {"title": "一般通知", "document_type": "通知", "author": ["某厅办公室"]},
            ("D30", "BGS", "F"),
        ),
        # Producer-supplied values are respected, even over a matching rule.
        (
            {"title": "关于X的决定", "document_type": "决定", "retention_period": "D10"},
            ("D10", None, None),
        ),
        (
            {"title": "关于X的决定", "保管期限": "定期30年", "organizational_unit": "XCC"},
            ("D30", "XCC", None),
        ),
        # An invalid producer value is ignored, not trusted.
        (
            {"title": "关于X的决定", "document_type": "决定", "retention_period": "长期"},
            ("Y", None, "A"),
        ),
    ],
)
def test_custom_schedule(
    schedule: Schedule,
    metadata: dict[str, object],
    expected: str | tuple[str, str | None, str | None],
) -> None:
    result = classify(schedule, metadata)
    if isinstance(expected, str):
        assert not result.classified
        assert result.reasons[0].code == expected
        assert result.reasons[0].zh
    else:
        assert (result.retention, result.org, result.rule_id) == expected


def test_low_confidence_reason_names_threshold(schedule: Schedule) -> None:
    result = classify(schedule, {"title": "材料"})
    assert result.reasons[0].en == "rule C confidence 0.40 is below threshold 0.60"


def test_higher_priority_overrides_lower(schedule: Schedule) -> None:
    result = classify(schedule, {"title": "会议材料", "document_type": "通知"})
    assert (result.retention, result.rule_id) == ("D10", "B")
    assert any(r.code == "overrides" and "F" in r.en for r in result.reasons)


def test_default_org_mapping_and_fallback() -> None:
    by_dept = classify(DEFAULT, md("关于做好防汛工作的通知", "通知", department="人事处"))
    assert by_dept.org == "RSC"
    fallback = classify(DEFAULT, md("关于做好防汛工作的通知", "通知"))
    assert fallback.org == "BGS"
    assert any(r.code == "org_fallback" for r in fallback.reasons)


@pytest.mark.parametrize(
    "text",
    [
        '[[rules]]\nid = "x"\nwhen = { document_type = ["函"] }\nthen = { retention = "D5" }',
        '[[rules]]\nid = "x"\nwhen = { colour = ["red"] }\nthen = { retention = "Y" }',
        '[[rules]]\nid = "x"\nwhen = { document_number = "(" }\nthen = { retention = "Y" }',
        '[[rules]]\nid = "x"\nthen = { retention = "Y" }',
        '[[rules]]\nid = "x"\nconfidence = 2.0\nwhen = { title_any = ["a"] }\n'
        'then = { retention = "Y" }',
        "not toml [",
    ],
)
def test_bad_schedules_rejected(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_schedule(text)


def test_load_schedule_from_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCHEDULE, encoding="utf-8")
    assert [r.id for r in load_schedule(path).rules] == ["A", "B", "C", "D", "E", "F"]
    with pytest.raises(ConfigurationError):
        load_schedule(tmp_path / "missing.toml")
