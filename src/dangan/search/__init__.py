"""Chinese full-text search: jieba-rs segmentation over SQLite FTS5 or PostgreSQL tsvector."""

from __future__ import annotations

from sqlalchemy import Engine

from dangan.search.interfaces import Hit, IndexFields, SearchIndex, SearchPage
from dangan.search.postgres_fts import PostgresFtsIndex
from dangan.search.sqlite_fts import SqliteFtsIndex


def index_for(engine: Engine) -> SearchIndex:
    """The index implementation for the engine's database."""
    if engine.dialect.name == "sqlite":
        return SqliteFtsIndex()
    return PostgresFtsIndex()


__all__ = [
    "Hit",
    "IndexFields",
    "PostgresFtsIndex",
    "SearchIndex",
    "SearchPage",
    "SqliteFtsIndex",
    "index_for",
]
