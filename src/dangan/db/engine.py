"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with `synchronous=FULL` so a committed transaction survives power
loss, and every transaction starts with BEGIN IMMEDIATE: writers queue for the lock up front
instead of failing on upgrade, which is what makes allocation of piece numbers and ledger
positions safe across processes. On PostgreSQL the same code relies on row locks
(`SELECT ... FOR UPDATE`), see `dangan.db.locking`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 60, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock at BEGIN (no deadlock upgrading a read); a read-only
        # engine (`read_only`) reads a WAL snapshot without holding writers up.
        deferred = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


READ_ONLY = "dangan_read_only"


def read_only(engine: Engine) -> Engine:
    """The same engine (pool, events) for long reads: on SQLite its transactions begin
    DEFERRED, so a long verification does not block every writer for its whole length."""
    return engine.execution_options(**{READ_ONLY: True})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
