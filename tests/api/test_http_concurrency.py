"""A soak over real HTTP: 8 business systems submit at once to a uvicorn server process.

For `DANGAN_HTTP_SOAK_SECONDS` (default 60) eight client threads, each with its own system
token, push notices through `dangan.client.DanganClient`; the notices spread over four
numbering scopes (two years × two retention periods) so the scopes' counters interleave.
Afterwards, on the instance itself: every acknowledged receipt is a record with that code,
archival codes are unique, piece numbers run 1..n without a gap in every scope, the ledger
verifies, and no request was answered with a 5xx (nor logged a traceback).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from dangan.bootstrap import Container
from dangan.client import DanganApiError, DanganClient
from dangan.records.models import Record
from tests.api.live_server import serve_instance
from tests.archive_kit import NOTICE, new_instance
from tests.people_kit import issue_token

CLIENTS = 8
SOAK_SECONDS = float(os.environ.get("DANGAN_HTTP_SOAK_SECONDS", "60"))
SCOPES = [("2023", "D10"), ("2023", "D30"), ("2024", "D10"), ("2024", "D30")]


@dataclass
class Tally:
    receipts: dict[str, dict[str, object]] = field(default_factory=dict)  # record_id → receipt
    errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _submit_loop(url: str, token: str, w: int, inbox: Path, stop_at: float, tally: Tally) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    with DanganClient(url, token, timeout=60) as api:
        n = 0
        while time.monotonic() < stop_at:
            year, retention = SCOPES[(w + n) % len(SCOPES)]
            path = inbox / f"正文-{n}.txt"
            title = f"{NOTICE['title']}（系统{w}第{n}号）"
            path.write_text(f"{title}\n各有关单位：请认真开展安全生产检查。{w}-{n}", "utf-8")
            meta = {
                "metadata": {
                    **NOTICE,
                    "title": title,
                    "date": f"{year}-03-05",
                    "retention_period": retention,
                }
            }
            source_id = f"SYS{w}-{n}"
            try:
                receipt = api.submit(meta, [path], source_id, idempotency_key=source_id)
            except DanganApiError as exc:
                with tally.lock:
                    (tally.server_errors if exc.status >= 500 else tally.errors).append(
                        f"{source_id}: {exc}"
                    )
                if exc.status == 0 or exc.status >= 500:
                    return  # the server is gone or broken: stop this client
            else:
                with tally.lock:
                    tally.receipts[str(receipt["record_id"])] = receipt
            n += 1


def _check_instance(c: Container, tally: Tally) -> None:
    with c.sessions() as s:
        records = list(s.scalars(select(Record)))
        by_id = {r.id: r for r in records}
        for record_id, receipt in tally.receipts.items():
            rec = by_id.get(record_id)
            assert rec is not None, f"acknowledged but missing: {record_id}"
            assert rec.archival_code == receipt["archival_code"], (record_id, receipt)
        codes = [r.archival_code for r in records if r.archival_code]
        assert len(codes) == len(set(codes)), "duplicate archival codes"
        scopes: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for r in records:
            if r.piece is not None:
                scopes[(r.fonds_code, r.category_code, r.year, r.retention, r.org_code)].append(
                    r.piece
                )
        for scope, pieces in scopes.items():
            assert sorted(pieces) == list(range(1, len(pieces) + 1)), f"gap in {scope}"
        assert len(scopes) >= 2, f"the scopes did not interleave: {sorted(scopes)}"
        report = c.ledger.verify(s)
        assert report.ok, report


@pytest.mark.slow
def test_eight_systems_submit_in_parallel_over_http(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "inst"
    c = new_instance(data_dir, db_url)
    try:
        tokens = [
            issue_token(c, f"system-{w}", ["submit", "read_catalogue"], rate=0)[0]
            for w in range(CLIENTS)
        ]
        tally = Tally()
        with serve_instance(data_dir, db_url) as server:
            stop_at = time.monotonic() + SOAK_SECONDS
            threads = [
                threading.Thread(
                    target=_submit_loop,
                    args=(server.url, tokens[w], w, tmp_path / f"in-{w}", stop_at, tally),
                )
                for w in range(CLIENTS)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(SOAK_SECONDS + 120)
            assert not any(t.is_alive() for t in threads), "a client hung"
        log = server.log_text()
        assert not tally.server_errors, tally.server_errors[:5]
        assert not tally.errors, tally.errors[:5]
        assert '" 5' not in log, log[-4000:]  # the access log: no 5xx
        assert "Traceback" not in log, log[-4000:]
        assert len(tally.receipts) >= CLIENTS, "too few submissions to mean anything"
        _check_instance(c, tally)
    finally:
        c.close()
