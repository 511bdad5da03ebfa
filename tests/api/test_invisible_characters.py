"""Titles and other display fields holding bidirectional controls or invisible format
characters are refused over the API with a 422 naming the field and the code point; nothing
is stored. Ordinary Chinese text and line breaks in multi-line fields are archived as given."""

from __future__ import annotations

import json
from typing import Any

from dangan.bootstrap import Container
from dangan.records.models import Record
from tests.api.conftest import TestClient, bearer, spool_entries
from tests.archive_kit import NOTICE, counts, stored_objects

URL = "/api/v1/submissions"
REFUSED = [
    *range(0x202A, 0x202F),  # embeddings and overrides
    *range(0x2066, 0x206A),  # isolates
    *range(0x200B, 0x2010),  # zero-width characters, LRM, RLM
    0x061C,  # ARABIC LETTER MARK
    0xFEFF,  # zero-width no-break space inside text
]
SINGLE_LINE_ONLY = [0x2028, 0x2029]
FIELDS = ["title", "author", "keywords", "document_number", "department", "personal_name"]


def submission(source_id: str, **fields: Any) -> dict[str, Any]:
    envelope = {"source_id": source_id, "metadata": {**NOTICE, **fields}}
    return {
        "data": {"metadata": json.dumps(envelope, ensure_ascii=False)},
        "files": [("files", ("正文.txt", "各有关单位：请认真开展检查。".encode(), "text/plain"))],
    }


def test_each_listed_code_point_is_refused_naming_the_field(
    api: TestClient, token: str, instance: Container
) -> None:
    before = counts(instance), stored_objects(instance)
    cases = [(cp, FIELDS[i % len(FIELDS)]) for i, cp in enumerate(REFUSED)]
    cases += [(cp, "title") for cp in SINGLE_LINE_ONLY]
    for cp, field in cases:
        value = f"关于开展{chr(cp)}安全生产检查的通知"
        r = api.post(URL, headers=bearer(token), **submission(f"OA-{cp:X}", **{field: value}))
        assert r.status_code == 422, (hex(cp), r.text)
        assert r.json()["code"] == "invalid_input"
        [problem] = r.json()["problems"]
        assert (problem["field"], problem["code"]) == (field, "invisible_character")
        assert f"U+{cp:04X}" in problem["zh"]
        assert f"U+{cp:04X}" in problem["en"]
        assert field in problem["en"]
    assert (counts(instance), stored_objects(instance)) == before
    assert spool_entries(instance) == []


def test_ordinary_chinese_and_line_breaks_are_archived(
    api: TestClient, token: str, instance: Container
) -> None:
    title = "关于印发《档案管理办法（2024年修订）》的通知——“重要”：请各单位遵照执行！"
    abstract = "一、总则。\n二、职责分工；\r\n三、附则\u2028（见附件）。"
    r = api.post(
        URL,
        headers=bearer(token),
        **submission("OA-OK", title=title, abstract=abstract, keywords=["档案", "管理办法"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["title"] == title
    with instance.sessions() as s:
        stored = s.get(Record, r.json()["record_id"])
        assert stored is not None
        assert stored.title == title
        kept = json.loads(stored.versions[-1].metadata_json)["metadata"]
    assert (kept["abstract"], kept["keywords"]) == (abstract, ["档案", "管理办法"])
