"""Each writing use case appends one of its declared ledger events: every one of them is run
here once, as an actor allowed to, and the ledger must grow by an event of a declared type.
A new use case that appends events fails `test_every_writing_use_case_is_run` until it has
a line in SCENARIOS."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dangan.bootstrap import Container
from dangan.intake import services as intake
from dangan.ledger.models import LedgerEntry
from dangan.records import services as records
from dangan.records.domain import IncomingFile, Submission
from dangan.usecase import use_case_info
from tests.archive_kit import (
    OPERATOR,
    UNCLASSIFIABLE,
    archivist,
    ingest,
    new_instance,
    notice,
    submitter,
    write_doc,
)
from tests.shape.test_use_cases import USE_CASES

Scenario = Callable[["World"], Any]


class World:
    def __init__(self, c: Container, folder: Path) -> None:
        self.c = c
        self.folder = folder
        self.rid = ingest(c, notice(folder, 1))["record_id"]
        path = write_doc(folder, "misc.txt", "杂项材料正文")
        queued = Submission("oa", "Q1", dict(UNCLASSIFIABLE), [IncomingFile(path, path.name)])
        self.queued = ingest(c, queued)["record_id"]


SCENARIOS: dict[str, Scenario] = {
    "dangan.records.services.archive_submission": lambda w: records.archive_submission(
        w.c, submitter(sub := notice(w.folder, 7)), sub
    ),
    "dangan.intake.services.submit": lambda w: intake.submit(
        w.c, submitter(sub := notice(w.folder, 8)), sub
    ),
    "dangan.records.services.browse": lambda w: records.browse(w.c, archivist()),
    "dangan.records.services.list_queue": lambda w: records.list_queue(w.c, OPERATOR),
    "dangan.records.services.get_metadata": lambda w: records.get_metadata(w.c, archivist(), w.rid),
    "dangan.records.services.history": lambda w: records.history(w.c, archivist(), w.rid),
    "dangan.records.services.proof": lambda w: records.proof(w.c, archivist(), w.rid, 0),
    "dangan.records.services.download": lambda w: records.download(
        w.c, archivist(), w.rid, "notice-1.txt"
    ),
    "dangan.records.services.edit_record": lambda w: records.edit_record(
        w.c, archivist(), w.rid, {"title": "关于开展消防安全检查的通知"}, "依原件更正"
    ),
    "dangan.records.services.confirm": lambda w: records.confirm(
        w.c, archivist(), w.queued, retention="D10", org="BGS"
    ),
    "dangan.records.services.search": lambda w: records.search(w.c, archivist(), "通知"),
}


def writing_use_cases() -> dict[str, frozenset[str]]:
    out = {}
    for name, fn in USE_CASES.items():
        info = use_case_info(fn)
        if info is not None and info.writes:
            out[name] = info.events
    return out


def test_every_writing_use_case_is_run() -> None:
    assert set(SCENARIOS) == set(writing_use_cases())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("events")
    c = new_instance(base / "inst", f"sqlite:///{base / 'dangan.db'}")
    yield World(c, base / "in")
    c.close()


def _events_since(c: Container, seq: int) -> list[dict[str, Any]]:
    with c.sessions() as s:
        rows = s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq >= seq))
        return [json.loads(e) for e in rows]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_writing_use_cases_record_their_events(world: World, name: str) -> None:
    with world.c.sessions() as s:
        before = world.c.ledger.size(s)
    SCENARIOS[name](world)
    appended = {e["type"] for e in _events_since(world.c, before) if e["outcome"] == "success"}
    assert appended & writing_use_cases()[name], f"{name} appended {appended}"
