"""Each archived record carries the access attributes the policy filters on."""

from __future__ import annotations

from pathlib import Path

from dangan.access.models import Department, RecordAccess
from tests.archive_kit import ingest, new_instance, notice


def test_classification_openness_and_owner_department(tmp_path: Path, db_url: str) -> None:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        with c.sessions.begin() as s:
            office = Department(fonds_code="Z109", code="BGS", name="办公室")
            s.add(office)
            s.flush()
            office_id = office.id
        controlled = ingest(c, notice(tmp_path / "in", 1))
        opened = ingest(
            c,
            notice(
                tmp_path / "in",
                2,
                control_identifier="开放",
                security_classification="内部",
                department="不存在的处室",
            ),
        )
        with c.sessions() as s:
            a = s.get(RecordAccess, controlled["record_id"])
            b = s.get(RecordAccess, opened["record_id"])
        assert (a.security_classification, a.openness, a.owner_department_id) == (
            "公开",
            "控制",
            office_id,  # 承办部门 办公室 names the department
        )
        # An unknown 承办部门 falls back to the 机构 code (BGS) of the record's class.
        assert (b.security_classification, b.openness, b.owner_department_id) == (
            "内部",
            "开放",
            office_id,
        )
    finally:
        c.close()
