"""Piece numbers stay unique and continuous when several processes archive at once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from dangan.bootstrap import bootstrap
from dangan.records.models import OutboxItem, Record
from tests.archive_kit import ingest, make_settings, new_instance, notice

WORKERS = 4
PER_WORKER = 6


def _worker(args: tuple[str, str, int]) -> list[str]:
    data_dir, db_url, w = args
    c = bootstrap(make_settings(Path(data_dir), db_url))
    try:
        inbox = Path(data_dir) / f"in-{w}"
        return [ingest(c, notice(inbox, w * 1000 + i))["archival_code"] for i in range(PER_WORKER)]
    finally:
        c.close()


@pytest.mark.slow
def test_parallel_processes_get_continuous_unique_pieces(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "inst"
    new_instance(data_dir, db_url).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        results = pool.map(_worker, [(str(data_dir), db_url, w) for w in range(WORKERS)])
    codes = [code for batch in results for code in batch]
    assert len(codes) == len(set(codes)) == WORKERS * PER_WORKER
    c = bootstrap(make_settings(data_dir, db_url))
    try:
        with c.sessions() as s:
            pieces = sorted(s.scalars(select(Record.piece)))
            assert pieces == list(range(1, WORKERS * PER_WORKER + 1))
            assert c.ledger.verify(s).ok
            assert c.ledger.size(s) == WORKERS * PER_WORKER
            assert list(s.scalars(select(OutboxItem).where(OutboxItem.done_at.is_(None)))) == []
    finally:
        c.close()
