"""Configurations an agency may choose: the intl suite, the DA/T 13 code form, several fonds."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.core.errors import InvalidInputError
from dangan.metadata.archival_code import DAT13_2022
from dangan.records.domain import Submission
from tests.archive_kit import ingest, new_instance, notice, verify


def test_intl_suite_signs_and_verifies(tmp_path: Path, sqlite_url: str) -> None:
    c = new_instance(tmp_path / "inst", sqlite_url, crypto_suite="intl")
    try:
        receipt = ingest(c, notice(tmp_path / "in", 1))
        assert receipt["signature"]["algorithm"] == "ed25519"
        assert receipt["ledger"]["hash"] == "sha256"
        assert verify(c, receipt["record_id"]).ok
        with c.sessions() as s:
            assert c.ledger.verify(s).ok
    finally:
        c.close()


def test_dat13_template_and_second_fonds(tmp_path: Path, db_url: str) -> None:
    c = new_instance(
        tmp_path / "inst",
        db_url,
        fonds=[{"code": "Z109", "name": "示范省档案局"}, {"code": "J001", "name": "示范市档案馆"}],
        arrangement={"code_template": DAT13_2022},
    )
    try:
        first = ingest(c, notice(tmp_path / "in", 1))
        assert first["archival_code"] == "Z109-WS·2024·D30·BGS-0001"
        other = notice(tmp_path / "in", 2)
        other = Submission(
            other.source_system, other.source_id, other.metadata, other.files, fonds="J001"
        )
        # Each fonds numbers on its own.
        assert ingest(c, other)["archival_code"] == "J001-WS·2024·D30·BGS-0001"
        bad = notice(tmp_path / "in", 3)
        bad = Submission(bad.source_system, bad.source_id, bad.metadata, bad.files, fonds="X999")
        with pytest.raises(InvalidInputError) as exc:
            ingest(c, bad)
        assert exc.value.problems[0].field == "fonds"
    finally:
        c.close()


def test_a_second_category_with_its_own_element_set(tmp_path: Path, sqlite_url: str) -> None:
    packaged = Path(__file__).resolve().parents[2] / "src/dangan/metadata/data/dat46_ws.toml"
    kj = tmp_path / "kj.toml"
    kj.write_text(
        packaged.read_text(encoding="utf-8").replace('category = "WS"', 'category = "KJ"', 1),
        encoding="utf-8",
    )
    c = new_instance(
        tmp_path / "inst",
        sqlite_url,
        categories=[
            {"code": "WS", "name": "文书"},
            {"code": "KJ", "name": "科技", "schema_file": kj},
        ],
    )
    try:
        sub = notice(tmp_path / "in", 1)
        sub = Submission(sub.source_system, sub.source_id, sub.metadata, sub.files, category="KJ")
        assert ingest(c, sub)["archival_code"] == "Z109-KJ·2024-D30-BGS-0001"
        unknown = notice(tmp_path / "in", 2)
        unknown = Submission(
            unknown.source_system, unknown.source_id, unknown.metadata, unknown.files, category="KU"
        )
        with pytest.raises(InvalidInputError) as exc:
            ingest(c, unknown)
        assert exc.value.problems[0].code == "unknown_category"
    finally:
        c.close()
