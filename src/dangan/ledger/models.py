"""Tables of the audit log: entries (leaves), stored subtree hashes, the head, checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dangan.db.base import Base

# SQLite only makes INTEGER PRIMARY KEY the fast rowid alias; PostgreSQL needs 64 bits.
Seq = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    """One leaf: seq is its index in the tree, from 0, with no gaps."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    # the canonical JSON bytes as UTF-8 text, exactly what leaf_hash covers
    event: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Copied out of the event for look-ups (a record's history); the event text stays the truth.
    target: Mapped[str | None] = mapped_column(String(200), index=True)
    # The queued event it was sequenced from (`ledger_pending.id`), so the unit of work that
    # queued it, in whatever process, finds its position. Not part of the hashed bytes.
    pending_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class LedgerNode(Base):
    """Hash of the complete subtree (level >= 1, index); level 0 lives in ledger_entries.

    `seq` is the append that completed the node, so `verify` can read nodes in the order
    it recomputes them, in batches alongside the entries.
    """

    __tablename__ = "ledger_nodes"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        Index("ix_ledger_nodes_seq", "seq"),
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    seq: Mapped[int] = mapped_column(BigInteger)


class LedgerHead(Base):
    """The single row every append locks: the current tree size."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class LedgerPending(Base):
    """An event committed with its use case's effect, waiting to be sequenced into the tree.

    The sequencer (`dangan.ledger.sequencer`) takes these in batches, gives each its position,
    signs one checkpoint per batch and deletes them, in one transaction.
    """

    __tablename__ = "ledger_pending"
    # Never reuse an id (SQLite would reuse a deleted highest rowid): entries keep it.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy's form

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(Text)  # canonical JSON, without its seq
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerCheckpoint(Base):
    """A signed tree head. `note` is the C2SP signed note (log signature and any witness
    cosignatures); `signature` is the log's signature over the note text."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(200))
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    time: Mapped[str] = mapped_column(String(40))
    hash_alg: Mapped[str] = mapped_column(String(20))
    sign_alg: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


LEDGER_TABLE_NAMES = frozenset(
    {"ledger_entries", "ledger_nodes", "ledger_head", "ledger_checkpoints", "ledger_pending"}
)
# for create_all(tables=...) in tests and tools; Alembic owns the real schema
LEDGER_TABLES: list[Table] = [Base.metadata.tables[name] for name in sorted(LEDGER_TABLE_NAMES)]
