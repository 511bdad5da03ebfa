"""Arrangement inside the archiving transaction: classification outcome → archival code.

Piece numbers are taken from a per-scope counter row locked for the transaction (FOR UPDATE on
PostgreSQL; BEGIN IMMEDIATE already serialises writers on SQLite). The counter moves only if
the whole transaction commits, so numbers stay unique and gap-free under concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dangan.arrangement.models import PieceCounter
from dangan.db.locking import for_update
from dangan.metadata import ArchivalCodeFormat, ArchivalCodeParts


@dataclass(frozen=True)
class Placement:
    """Where a record sits in the arrangement once classified."""

    fonds: str
    category: str
    year: int
    retention: str
    org: str | None


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert
    return sqlite_insert


def allocate_piece(session: Session, p: Placement) -> int:
    key = (p.fonds, p.category, p.year, p.retention, p.org or "")
    # Create the scope's counter if new without racing a concurrent creator, then lock it.
    values = dict(zip(("fonds", "category", "year", "retention", "org"), key, strict=True))
    session.execute(
        _insert(session)(PieceCounter).values(**values, last_piece=0).on_conflict_do_nothing()
    )
    stmt = for_update(
        select(PieceCounter).where(
            PieceCounter.fonds == key[0],
            PieceCounter.category == key[1],
            PieceCounter.year == key[2],
            PieceCounter.retention == key[3],
            PieceCounter.org == key[4],
        )
    )
    counter = session.scalars(stmt).one()
    counter.last_piece += 1
    session.flush()
    return counter.last_piece


def assign_code(session: Session, fmt: ArchivalCodeFormat, p: Placement) -> tuple[int, str]:
    piece = allocate_piece(session, p)
    parts = ArchivalCodeParts(
        fonds=p.fonds,
        category=p.category,
        year=p.year,
        retention=p.retention,
        org=p.org,
        piece=piece,
    )
    return piece, fmt.format(parts)
