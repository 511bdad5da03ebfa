"""An invisible record answers exactly like a missing one, on every route, for every person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import test_records_api
from tests.api.test_records_api import (
    EXPECTED,
    PEOPLE,
    World,
    brief,
    ledger_events,
    ledger_size,
)

world = test_records_api.world  # the shared fixture

MISSING = "00000000-0000-5000-8000-000000000000"
ROUTES = [
    ("GET", "/api/v1/records/{ref}", None),
    ("GET", "/api/v1/records/{ref}/history", None),
    ("GET", "/api/v1/records/{ref}/files/notice-1.txt", None),
    ("GET", "/api/v1/records/{ref}/events/0/proof", None),
    ("GET", "/api/v1/records/{ref}/verification", None),
    ("PATCH", "/api/v1/records/{ref}", {"changes": {"title": "改"}, "reason": "试"}),
]


def _answer(w: World, who: str, method: str, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    r = w.api.request(method, url, headers=w.h(who), json=body)
    shown = r.json()
    shown.pop("instance")
    # the ref is echoed in the text; put both on the same footing
    return r.status_code, {k: v.replace(url.split("/")[4], "<ref>") if isinstance(v, str)
                           else v for k, v in shown.items()}  # fmt: skip


@pytest.mark.parametrize("who", PEOPLE)
def test_invisible_and_missing_look_the_same(world: World, who: str) -> None:
    hidden = [k for k in world.rec if k not in EXPECTED[who]]
    assert hidden or who == "archivist"
    for key in hidden:
        for method, template, body in ROUTES:
            seen = _answer(world, who, method, template.format(ref=world.rec[key]), body)
            missing = _answer(world, who, method, template.format(ref=MISSING), body)
            assert seen == missing, (key, template)
            assert seen[0] == 404
            assert seen[1]["code"] == "record_not_found"


def test_refusals_of_invisible_records_are_recorded_without_target(world: World) -> None:
    before = ledger_size(world.c)
    world.get("staff_b", f"/api/v1/records/{world.rec['a_ctrl']}")
    world.get("staff_b", f"/api/v1/records/{MISSING}")
    events = ledger_events(world.c, before)
    assert brief(events) == [("record.viewed", "staff_b", "denied")] * 2
    assert all("target" not in e for e in events)
    assert [e["details"]["ref"] for e in events] == [world.rec["a_ctrl"], MISSING]


def test_archival_code_of_an_invisible_record_is_404_too(world: World) -> None:
    code = world.get("archivist", f"/api/v1/records/{world.rec['a_secret']}").json()[
        "archival_code"
    ]
    r = world.get("staff_b", f"/api/v1/records/{code}")
    assert (r.status_code, r.json()["code"]) == (404, "record_not_found")
