"""Correcting metadata makes a new signed version with a reason; the old one is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dangan.bootstrap import Container
from dangan.core.errors import InvalidInputError
from dangan.records.services import edit_record, history
from tests.archive_kit import OPERATOR, archivist, find, ingest, new_instance, notice, verify


@pytest.fixture
def archive(tmp_path: Path, db_url: str) -> Iterator[Container]:
    c = new_instance(tmp_path / "inst", db_url)
    yield c
    c.close()


def test_edit_creates_version_keeps_old_and_is_on_the_ledger(
    archive: Container, tmp_path: Path
) -> None:
    receipt = ingest(archive, notice(tmp_path / "in", 1))
    rid = receipt["record_id"]
    result = edit_record(
        archive,
        archivist("张档案"),
        rid,
        {"title": "关于开展消防安全大检查的通知"},
        "题名录入错误，依原件更正",
    )
    assert result == {"record_id": rid, "version": 2, "changed": ["title"]}
    found = history(archive, OPERATOR, rid)
    titles = [v["metadata"]["title"] for v in found["versions"]]
    assert titles == ["关于开展安全生产大检查的通知（第1号）", "关于开展消防安全大检查的通知"]
    edited = [e for e in found["events"] if e["type"] == "record.edited"]
    assert edited[0]["actor"] == "张档案"
    assert edited[0]["details"]["changes"]["title"]["old"].startswith("关于开展安全生产")
    assert edited[0]["details"]["reason"] == "题名录入错误，依原件更正"
    assert [e["type"] for e in found["events"]] == ["record.archived", "record.edited"]
    for root in archive.roots:
        assert root.read_inventory(rid)["head"] == "v2"
        assert b"\\u6d88\\u9632" not in root.read_file(rid, "metadata.json", version=1)
    assert verify(archive, rid).ok
    assert find(archive, "消防")["total"] == 1
    with archive.sessions() as s:
        assert archive.ledger.verify(s).ok


@pytest.mark.parametrize(
    ("changes", "reason", "code"),
    [
        ({"title": "新题名"}, "", "reason_required"),
        ({"archival_code": "Z109-WS·2024-Y-BGS-0009"}, "改档号", "not_editable"),
        ({"date": "2024-02-30"}, "改日期", "bad_date"),
        ({"title": "关于开展安全生产大检查的通知（第1号）"}, "无变化", "no_change"),
        ({"title": "关于开展\u202e检查的通知"}, "改题名", "invisible_character"),
        ({"keywords": ["安全", "生\u200b产"]}, "补充关键词", "invisible_character"),
        ({"title": "新题名"}, "依原件\u2067更正", "invisible_character"),
    ],
)
def test_bad_edits_change_nothing(
    archive: Container, tmp_path: Path, changes: dict[str, object], reason: str, code: str
) -> None:
    rid = ingest(archive, notice(tmp_path / "in", 1))["record_id"]
    with pytest.raises(InvalidInputError) as exc:
        edit_record(archive, archivist("张档案"), rid, changes, reason)
    assert code in {p.code for p in exc.value.problems}
    found = history(archive, OPERATOR, rid)
    assert len(found["versions"]) == 1
    assert [e["type"] for e in found["events"]] == ["record.archived"]


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"keywords": ["安全", "生\u200b产"], "abstract": "新摘要"}, "补充", "keywords[1]"),
        ({"title": "新题名"}, "依原件\u2067更正", "reason"),
    ],
)
def test_an_edit_names_the_field_with_an_invisible_character(
    archive: Container, tmp_path: Path, changes: dict[str, object], reason: str, field: str
) -> None:
    """A repeatable element's value is named by its index, and the other changes wait."""
    rid = ingest(archive, notice(tmp_path / "in", 1))["record_id"]
    with pytest.raises(InvalidInputError) as exc:
        edit_record(archive, archivist("张档案"), rid, changes, reason)
    assert [(p.field, p.code) for p in exc.value.problems] == [(field, "invisible_character")]
    assert len(history(archive, OPERATOR, rid)["versions"]) == 1
