"""A lock per (source system, source id), held from the idempotency check to the commit.

Content is staged before the transaction under the record's object, whose id derives from the
source id. Two submissions racing with the same source id but different files would otherwise
write over each other's staged bytes, and the winner's content could be replaced by the
loser's. Serialising them per source id (different ids still run in parallel) closes that.
On PostgreSQL the lock is a session advisory lock, so it holds across app servers; on SQLite
(one machine) it is an flock on a file in the data directory.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text


def _advisory_key(record_id: str) -> int:
    # 64 signed bits of the record's uuid: what pg_advisory_lock takes.
    return int.from_bytes(uuid.UUID(record_id).bytes[:8], "big", signed=True)


@contextmanager
def source_lock(engine: Engine, data_dir: Path, record_id: str) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = _advisory_key(record_id)
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    locks = data_dir / "locks"
    locks.mkdir(exist_ok=True)
    # Striped: a fixed set of lock files, so none ever has to be deleted (which would race).
    stripe = uuid.UUID(record_id).bytes[0]
    fd = os.open(locks / f"source-{stripe:02x}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
