"""A process that archives notices one after another and acknowledges each durably.

Run by test_kill9: it prints READY once the instance is open, then for each submission,
after `archive_submission` returns, appends "source_id<TAB>archival_code<TAB>record_id" to the
acknowledgement file and fsyncs it — an acknowledged submission is one a client was told about.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dangan.bootstrap import bootstrap
from tests.archive_kit import ingest, make_settings, notice


def main() -> None:
    data_dir, db_url, start, count, ack = sys.argv[1:6]
    c = bootstrap(make_settings(Path(data_dir), db_url))
    inbox = Path(data_dir) / "inbox"
    print("READY", flush=True)
    fd = os.open(ack, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for n in range(int(start), int(start) + int(count)):
        receipt = ingest(c, notice(inbox, n))
        line = f"OA-{n}\t{receipt['archival_code']}\t{receipt['record_id']}\n"
        os.write(fd, line.encode())
        os.fsync(fd)


if __name__ == "__main__":
    main()
