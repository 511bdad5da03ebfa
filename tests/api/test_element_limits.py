"""The element set's limits are the contract: a value at the limit is archived on both
databases (PostgreSQL refuses what does not fit a column), one past it is a 422 naming the
field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

from dangan.bootstrap import Container
from dangan.metadata import ws_schema
from dangan.records.models import Record
from tests.api.conftest import TestClient, bearer, spool_entries
from tests.archive_kit import NOTICE, counts, stored_objects

URL = "/api/v1/submissions"


def submission(source_id: str, **fields: Any) -> dict[str, Any]:
    """`client.post` keyword arguments: one notice whose metadata has `fields` replaced."""
    envelope = {"source_id": source_id, "metadata": {**NOTICE, **fields}}
    return {
        "data": {"metadata": json.dumps(envelope, ensure_ascii=False)},
        "files": [("files", ("正文.txt", "各有关单位：请认真开展检查。".encode(), "text/plain"))],
    }


def padded(text: str, length: int) -> str:
    return text + "题" * (length - len(text))


def test_the_longest_values_are_archived(api: TestClient, token: str, instance: Container) -> None:
    schema = ws_schema()
    title = padded(str(NOTICE["title"]), schema["title"].max_length or 0)
    number = padded("示档发〔2024〕3号", schema["document_number"].max_length or 0)
    # Ten authors at the element's limit: the catalogue keeps them joined in one column.
    authors = [padded(f"示范省第{i}厅", schema["author"].max_length or 0) for i in range(10)]
    r = api.post(
        URL,
        headers=bearer(token),
        **submission("OA-LONG", title=title, document_number=number, author=authors),
    )
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["title"] == title
    with instance.sessions() as s:
        rec = s.get(Record, receipt["record_id"])
        assert rec is not None
        assert (rec.title, rec.document_number) == (title, number)
        assert rec.author == "；".join(authors)
    described = api.get(f"/api/v1/submissions/{receipt['record_id']}", headers=bearer(token))
    assert described.json()["receipt"]["title"] == title


def test_a_title_past_the_limit_is_refused_naming_the_field(
    api: TestClient, token: str, instance: Container
) -> None:
    limit = ws_schema()["title"].max_length or 0
    before = counts(instance), stored_objects(instance)
    r = api.post(
        URL,
        headers=bearer(token),
        **submission("OA-LONG", title=padded(str(NOTICE["title"]), limit + 1)),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "invalid_input"
    [problem] = body["problems"]
    assert (problem["field"], problem["code"]) == ("title", "too_long")
    assert f"{limit + 1}" in problem["zh"]
    assert f"{limit}" in problem["en"]
    assert (counts(instance), stored_objects(instance)) == before
    assert spool_entries(instance) == []
