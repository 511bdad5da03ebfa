"""docs/elements.md is exactly what the element set renders to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dangan.core.errors import ConfigurationError
from dangan.metadata import load_schema, validate, ws_schema
from dangan.metadata.reference import REGENERATE, main, render_elements_markdown
from tests.docs.doc_blocks import DOCS

ELEMENTS = DOCS / "elements.md"


def test_elements_doc_is_up_to_date() -> None:
    expected = render_elements_markdown(ws_schema())
    actual = ELEMENTS.read_text(encoding="utf-8")
    assert actual == expected, f"docs/elements.md is out of date; regenerate it: {REGENERATE}"


def test_module_command_prints_the_page() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dangan.metadata.reference"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.decode("utf-8") == render_elements_markdown(ws_schema())


def test_every_element_and_its_values_are_on_the_page() -> None:
    page = render_elements_markdown(ws_schema())
    for el in ws_schema():
        assert f'<a id="el-{el.key.replace("_", "-")}"></a>' in page
        for name in el.accepted_names:
            assert f"`{name}`" in page
        for value in (*el.values, *el.aliases):
            assert f"`{value}`" in page
        if el.drives_en:
            assert el.drives_en in page
            assert el.drives_zh in page


def test_key_elements_say_what_they_drive() -> None:
    """The elements integrators ask about carry their 'drives' text in the element set."""
    schema = ws_schema()
    for key in (
        "security_classification",
        "control_identifier",
        "department",
        "date",
        "year",
        "document_number",
        "document_type",
        "retention_period",
        "organizational_unit",
        "archival_code",
    ):
        assert schema[key].drives_zh, key
        assert schema[key].drives_en, key


def test_wenhao_is_accepted_as_document_number() -> None:
    schema = ws_schema()
    assert schema.get("文号") is schema["document_number"]
    base = {"题名": "关于X的通知", "责任者": "某厅", "日期": "20240301", "密级": "公开"}
    normalised, problems = validate(schema, {**base, "文号": "某发〔2024〕1号"}, "submission")
    assert not problems
    assert normalised["document_number"] == "某发〔2024〕1号"
    _, problems = validate(schema, {**base, "文号": "1", "文件编号": "1"}, "submission")
    assert [(p.field, p.code) for p in problems] == [("document_number", "duplicate_field")]


def test_bad_names_or_drives_in_an_element_set_are_refused(tmp_path: Path) -> None:
    head = '[schema]\ncategory = "KJ"\n[[elements]]\nkey = "title"\nzh = "题名"\nen = "Title"\n'
    head += 'obligation = "mandatory"\ntype = "string"\nsource = "producer"\n'
    for extra in ('names = "文号"\n', "drives_zh = 3\n", 'names = [""]\n'):
        path = tmp_path / "kj.toml"
        path.write_text(head + extra, encoding="utf-8")
        with pytest.raises(ConfigurationError):
            load_schema(path)
    path.write_text(head + 'names = ["标题"]\ndrives_en = """Shown\n   as the title."""\n', "utf-8")
    schema = load_schema(path)
    assert schema.get("标题") is schema["title"]
    assert schema["title"].drives_en == "Shown as the title."  # whitespace folded


def test_main_renders_a_category(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["WS"]) == 0
    assert capsysbinary.readouterr().out.decode("utf-8") == ELEMENTS.read_text(encoding="utf-8")
    assert main(["a", "b"]) == 2
