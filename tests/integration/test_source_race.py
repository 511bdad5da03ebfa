"""Two producers racing with one source id and different files: one wins, the other is told
why, and the winner's content is intact on every replica."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dangan.core.errors import ConflictError
from dangan.records.domain import IncomingFile, Submission
from tests.archive_kit import NOTICE, ingest, new_instance, sm3_hex, verify, write_doc


def test_same_source_id_different_content_in_parallel(tmp_path: Path, db_url: str) -> None:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        for k in range(6):
            paths = [
                write_doc(tmp_path / f"p{side}", f"doc-{k}.txt", f"版本{side}：安全生产通知{k}")
                for side in "AB"
            ]
            subs = [
                Submission("oa", f"RACE-{k}", dict(NOTICE), [IncomingFile(p, "正文.txt")])
                for p in paths
            ]
            barrier = threading.Barrier(2)
            outcomes: list[Any] = [None, None]

            def run(
                i: int,
                subs: list[Submission] = subs,
                outcomes: list[Any] = outcomes,
                barrier: threading.Barrier = barrier,
            ) -> None:
                barrier.wait()
                try:
                    outcomes[i] = ingest(c, subs[i])
                except ConflictError as exc:
                    outcomes[i] = exc

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            receipts = [o for o in outcomes if isinstance(o, dict)]
            conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
            assert len(receipts) == 1, outcomes
            assert len(conflicts) == 1
            assert conflicts[0].code == "source_id_reused"
            winner = outcomes.index(receipts[0])
            assert receipts[0]["files"][0]["sm3"] == sm3_hex(paths[winner])
            result = verify(c, receipts[0]["record_id"])
            assert result.ok, result.problems
    finally:
        c.close()
