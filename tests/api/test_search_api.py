"""GET /api/v1/search: filtered inside the query for people and for systems, recorded."""

from __future__ import annotations

import pytest

from tests.api import test_records_api
from tests.api.conftest import bearer
from tests.api.test_records_api import (
    ADMINS,
    EXPECTED,
    PEOPLE,
    World,
    brief,
    ids,
    ledger_events,
    ledger_size,
)
from tests.people_kit import issue_token

world = test_records_api.world  # the shared fixture

URL = "/api/v1/search"


@pytest.mark.parametrize("who", PEOPLE)
def test_search_counts_and_returns_only_visible_hits(world: World, who: str) -> None:
    r = world.get(who, URL, params={"q": "安全生产", "limit": 100})
    assert r.status_code == 200, r.text
    found = r.json()
    assert {h["record_id"] for h in found["hits"]} == ids(world, EXPECTED[who])
    assert found["total"] == len(EXPECTED[who])
    assert set(found["hits"][0]) == {
        "record_id",
        "archival_code",
        "title",
        "date",
        "date_precision",
        "snippet",
    }
    assert found["hits"][0]["date_precision"] == "day"
    # paging keeps the total of visible hits only
    page = world.get(who, URL, params={"q": "安全生产", "limit": 1, "offset": 1}).json()
    assert page["total"] == len(EXPECTED[who])
    assert len(page["hits"]) == 1


def test_search_is_recorded(world: World) -> None:
    before = ledger_size(world.c)
    world.get("staff_a", URL, params={"q": "安全生产"})
    events = ledger_events(world.c, before)
    assert brief(events) == [("search.query", "staff_a", "success")]
    assert events[0]["details"]["q"] == "安全生产"
    assert events[0]["details"]["total"] == len(EXPECTED["staff_a"])


@pytest.mark.parametrize("who", ADMINS)
def test_administrators_cannot_search(world: World, who: str) -> None:
    r = world.get(who, URL, params={"q": "安全生产"})
    assert (r.status_code, r.json()["code"]) == (403, "separation_of_duties")
    assert brief(ledger_events(world.c, ledger_size(world.c) - 1)) == [
        ("search.query", who, "denied")
    ]


@pytest.mark.parametrize(
    "q",
    [
        '" OR 1=1 --',
        "安全生产' OR '1'='1",
        "title:* NEAR(a b)",
        "); DROP TABLE records; --",
        "安全 | 生产 & !检查",
        "*",
        '"""',
    ],
)
def test_injection_strings_are_harmless(world: World, q: str) -> None:
    r = world.get("staff_b", URL, params={"q": q})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert {h["record_id"] for h in r.json()["hits"]} <= ids(world, EXPECTED["staff_b"])
    assert world.get("archivist", "/api/v1/records").json()["total"] == len(EXPECTED["archivist"])


def test_empty_or_long_query_is_422(world: World) -> None:
    assert world.get("staff_a", URL, params={"q": ""}).status_code == 422
    assert world.get("staff_a", URL, params={"q": "长" * 201}).status_code == 422


def test_system_token_sees_only_its_own_submissions(world: World) -> None:
    oa, _ = issue_token(world.c, "oa", ["read_catalogue"])
    fin, _ = issue_token(world.c, "finance", ["read_catalogue"])
    submit_only, _ = issue_token(world.c, "oa", ["submit"])
    got_oa = world.api.get(URL, headers=bearer(oa), params={"q": "安全生产", "limit": 100}).json()
    oa_ids = {world.rec[k] for k in world.rec if k != "finance"}
    assert {h["record_id"] for h in got_oa["hits"]} == oa_ids
    assert got_oa["total"] == len(oa_ids)
    got_fin = world.api.get(URL, headers=bearer(fin), params={"q": "安全生产"}).json()
    assert [h["record_id"] for h in got_fin["hits"]] == [world.rec["finance"]]
    assert got_fin["total"] == 1
    events = ledger_events(world.c, ledger_size(world.c) - 1)
    assert brief(events) == [("search.query", "system:finance", "success")]
    refused = world.api.get(URL, headers=bearer(submit_only), params={"q": "安全生产"})
    assert (refused.status_code, refused.json()["code"]) == (403, "scope_missing")
    # a system token is not a person: the records API refuses it
    assert world.api.get("/api/v1/records", headers=bearer(oa)).status_code == 401
