"""Every catalogue column that holds a metadata element is as wide as the element set allows,
in the schema the migrations make, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, Integer, String, inspect

from dangan.bootstrap import make_schemas
from dangan.core.errors import ConfigurationError
from dangan.metadata import ws_schema
from dangan.records.columns import ELEMENT_COLUMNS
from dangan.schema.migrate import upgrade
from dangan.settings import load_settings

PACKAGED = Path(__file__).resolve().parents[2] / "src/dangan/metadata/data/dat46_ws.toml"
# The elements the catalogue keeps in columns of their own (browse, search, numbering, access).
STORED = {
    "title",
    "document_number",
    "author",
    "date",
    "year",
    "archival_code",
    "fonds_identifier",
    "category_code",
    "retention_period",
    "organizational_unit",
    "agency_item_number",
    "computer_file_name",
    "security_classification",
}


def test_every_stored_element_has_its_column() -> None:
    assert {ec.key for ec in ELEMENT_COLUMNS} == STORED
    assert set(ws_schema().keys) >= STORED


def test_migrated_columns_hold_the_longest_valid_value(engine: Engine) -> None:
    upgrade(engine)
    inspector = inspect(engine)
    reflected = {
        table: {c["name"]: c["type"] for c in inspector.get_columns(table)}
        for table in {ec.column.table.name for ec in ELEMENT_COLUMNS}
    }
    schema = ws_schema()
    for ec in ELEMENT_COLUMNS:
        el = schema[ec.key]
        kind = reflected[ec.column.table.name][ec.column.name]
        where = f"{ec.where} ({kind}) for {el.key}"
        if el.type in ("integer", "year"):
            assert isinstance(kind, Integer), where
            continue
        assert isinstance(kind, String), where
        if ec.joined:  # every value of a repeatable element in one text: no width is enough
            assert kind.length is None, where
            continue
        longest = {
            "string": el.max_length,
            "text": el.max_length,
            "enum": max((len(v) for v in el.values), default=0),
            "date": len("2024-03-05"),
        }[el.type]
        assert longest is not None, where
        assert kind.length is None or kind.length >= longest, where


def test_an_element_set_wider_than_its_columns_is_refused_at_start_up(tmp_path: Path) -> None:
    wide = tmp_path / "kj.toml"
    text = PACKAGED.read_text(encoding="utf-8").replace('category = "WS"', 'category = "KJ"', 1)
    title = 'zh = "题名"\nen = "Title"\nobligation = "mandatory"\ntype = "string"\n'
    assert f"{title}max_length = 1000\n" in text
    wide.write_text(text.replace(f"{title}max_length = 1000\n", f"{title}max_length = 2000\n"))
    settings = load_settings(
        data_dir=tmp_path / "inst",
        database_url=f"sqlite:///{tmp_path / 'd.db'}",
        categories=[
            {"code": "WS", "name": "文书"},
            {"code": "KJ", "name": "科技", "schema_file": wide},
        ],
    )
    with pytest.raises(ConfigurationError) as exc:
        make_schemas(settings)
    assert exc.value.code == "schema_wider_than_catalogue"
    assert "KJ" in exc.value.zh
    assert [(p.field, p.code) for p in exc.value.problems] == [("title", "column_too_narrow")]
    assert "records.title" in exc.value.problems[0].en
