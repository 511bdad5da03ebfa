"""Locks that serialise work across threads, processes and (on PostgreSQL) app servers.

`for_update` row locks serialise allocation inside a transaction (on SQLite BEGIN IMMEDIATE
already does). `named_lock` holds a lock across transactions and other IO — e.g. from the
ledger's commit to the durable copy of that batch in storage: a PostgreSQL session advisory
lock (held across app servers), or an flock on a file in the data directory (one machine,
SQLite).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, text

S = TypeVar("S", bound=Select[Any])


def for_update(stmt: S) -> S:
    """Add FOR UPDATE (a no-op on SQLite, whose writers are serialised by BEGIN IMMEDIATE)."""
    return stmt.with_for_update()


@contextmanager
def named_lock(engine: Engine, data_dir: Path, name: str, key: int) -> Iterator[None]:
    """Hold lock `name` (its 64-bit `key` on PostgreSQL) until the block ends."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    locks = data_dir / "locks"
    locks.mkdir(exist_ok=True)
    fd = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
