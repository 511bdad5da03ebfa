"""A process that archives notices and appends plain ledger events from many threads at once
(so batches of the group commit are in flight when it is killed), acknowledging each durably.

Run by test_kill9: it prints READY once the instance is open. Each ingest thread takes the next
notice number and, after `archive_submission` returns, appends
"I<TAB>source_id<TAB>archival_code<TAB>record_id"; each append thread, after
`sequencer.append` returns, appends
"E<TAB>tag<TAB>seq<TAB>leaf hash hex<TAB>checkpoint size<TAB>roots holding it".
Every line is written with one `write` and fsynced: an acknowledged line is what a client was
told.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from pathlib import Path

from dangan.bootstrap import bootstrap
from dangan.core.clock import utcnow
from dangan.ledger.events import audit_event
from tests.archive_kit import ingest, make_settings, notice

INGESTERS = 3
APPENDERS = 8


def main() -> None:
    data_dir, db_url, start, count, ack, run = sys.argv[1:7]
    c = bootstrap(make_settings(Path(data_dir), db_url))
    inbox = Path(data_dir) / "inbox"
    fd = os.open(ack, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    numbers = itertools.count(int(start))
    last = int(start) + int(count)
    lock = threading.Lock()

    def acknowledge(line: str) -> None:
        with lock:
            os.write(fd, line.encode())
            os.fsync(fd)

    def ingesting() -> None:
        while (n := next(numbers)) < last:
            receipt = ingest(c, notice(inbox, n))
            acknowledge(f"I\tOA-{n}\t{receipt['archival_code']}\t{receipt['record_id']}\n")

    def appending(thread: int) -> None:
        for i in range(int(count)):
            tag = f"{run}-{thread}-{i}"
            event = audit_event("test.appended", "cli", utcnow(), "ok", details={"tag": tag})
            (done,) = c.sequencer.append([event])
            held = len(done.copies)  # the roots holding it: at least one, or no acknowledgement
            line = f"E\t{tag}\t{done.seq}\t{done.leaf_hash.hex()}\t{done.checkpoint_size}"
            acknowledge(f"{line}\t{held}\n")

    threads = [threading.Thread(target=ingesting, daemon=True) for _ in range(INGESTERS)]
    threads += [
        threading.Thread(target=appending, args=(t,), daemon=True) for t in range(APPENDERS)
    ]
    print("READY", flush=True)
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
