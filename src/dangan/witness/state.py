"""The witness's state, in its own SQLite file: the logs it watches and, per origin, the
latest (size, root) it cosigned.

`advance` is the spec's atomic check-and-update: one `BEGIN IMMEDIATE` transaction reads the
latest cosigned size, runs the checks against it and stores the new one, so two requests
cannot both pass against the same old size and a late smaller one cannot roll the state back
(c2sp.org/tlog-witness, add-checkpoint). WAL with `synchronous=FULL`: once `advance` returns,
the new state is on disk — before the witness answers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from dangan.core.clock import iso, utcnow
from dangan.core.errors import ConfigurationError, ConflictError
from dangan.witness.domain import Latest, LogConfig, LogKey

SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_keys (
    origin TEXT NOT NULL REFERENCES logs (origin),
    name TEXT NOT NULL,
    sign TEXT NOT NULL,
    public_key BLOB NOT NULL,
    PRIMARY KEY (origin, name, sign, public_key)
);
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY REFERENCES logs (origin),
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    checkpoint TEXT NOT NULL,
    cosigned_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    code TEXT NOT NULL,
    received_at TEXT NOT NULL,
    request BLOB NOT NULL
);
"""


class WitnessState:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigurationError(
                code="witness_missing",
                zh=f"找不到见证方状态文件 {path}，请先运行 dangan witness init",
                en=f"no witness state at {path}; run 'dangan witness init' first",
            )
        self.path = path

    @classmethod
    def create(cls, path: Path) -> WitnessState:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite's -wal, -shm follow
        with closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        return cls(path)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        uri = f"{self.path.resolve().as_uri()}?mode=rw"
        db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE): writers queue here."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def trust(self, origin: str, hash_name: str, key: LogKey) -> None:
        """Watch `origin` (tree hash `hash_name`), accepting checkpoints signed by `key`."""
        with self._transaction() as db:
            row = db.execute("SELECT hash FROM logs WHERE origin = ?", (origin,)).fetchone()
            if row is not None and row[0] != hash_name:
                raise ConflictError(
                    code="log_hash_differs",
                    zh=f"日志 “{origin}” 已配置为哈希 {row[0]}",
                    en=f"the log '{origin}' is already configured with hash {row[0]}",
                )
            db.execute("INSERT OR IGNORE INTO logs VALUES (?, ?)", (origin, hash_name))
            db.execute(
                "INSERT OR IGNORE INTO log_keys VALUES (?, ?, ?, ?)",
                (origin, key.name, key.sign, key.public_key),
            )

    def log(self, origin: str) -> LogConfig | None:
        with self._db() as db:
            row = db.execute("SELECT hash FROM logs WHERE origin = ?", (origin,)).fetchone()
            keys = db.execute(
                "SELECT name, sign, public_key FROM log_keys WHERE origin = ? ORDER BY rowid",
                (origin,),
            ).fetchall()
        if row is None:
            return None
        return LogConfig(origin, row[0], tuple(LogKey(n, s, bytes(k)) for n, s, k in keys))

    def origins(self) -> list[str]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT origin FROM logs ORDER BY origin")]

    def latest(self, origin: str) -> Latest | None:
        with self._db() as db:
            return _latest(db, origin)

    def advance(
        self, origin: str, new: Latest, checkpoint: str, check: Callable[[Latest | None], None]
    ) -> None:
        """Atomically: `check(latest)` (it raises to refuse), then store `new` as the latest."""
        with self._transaction() as db:
            check(_latest(db, origin))
            db.execute(
                "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET"
                " size = excluded.size, root = excluded.root,"
                " checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at",
                (origin, new.size, new.root, checkpoint, iso(utcnow())),
            )

    def keep_evidence(self, origin: str, code: str, request: bytes) -> None:
        """Keep a validly signed request that was refused: it may prove the log misbehaved."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO evidence (origin, code, received_at, request) VALUES (?, ?, ?, ?)",
                (origin, code, iso(utcnow()), request),
            )

    def evidence(self, origin: str) -> list[tuple[str, bytes]]:
        """(code, request body) of each refusal kept for `origin`, oldest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT code, request FROM evidence WHERE origin = ? ORDER BY id", (origin,)
            ).fetchall()
        return [(code, bytes(body)) for code, body in rows]


def _latest(db: sqlite3.Connection, origin: str) -> Latest | None:
    row = db.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
    return None if row is None else Latest(int(row[0]), bytes(row[1]))
