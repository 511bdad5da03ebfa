"""A lock per (source system, source id), held from the idempotency check to the commit.

Content is staged before the transaction under the record's object, whose id derives from the
source id. Two submissions racing with the same source id but different files would otherwise
write over each other's staged bytes, and the winner's content could be replaced by the
loser's. Serialising them per source id (different ids still run in parallel) closes that.
On PostgreSQL the lock is a session advisory lock, so it holds across app servers; on SQLite
(one machine) it is an flock on a file in the data directory.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Engine

from dangan.db.locking import named_lock


def _advisory_key(record_id: str) -> int:
    # 64 signed bits of the record's uuid: what pg_advisory_lock takes.
    return int.from_bytes(uuid.UUID(record_id).bytes[:8], "big", signed=True)


def source_lock(engine: Engine, data_dir: Path, record_id: str) -> AbstractContextManager[None]:
    # Striped on SQLite: a fixed set of lock files, so none ever has to be deleted (a race).
    stripe = uuid.UUID(record_id).bytes[0]
    return named_lock(engine, data_dir, f"source-{stripe:02x}", _advisory_key(record_id))
