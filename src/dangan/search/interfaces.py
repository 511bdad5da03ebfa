"""The full-text search port: one implementation per database backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypedDict

from sqlalchemy import Connection, Select
from sqlalchemy.orm import Session

# A SELECT of the record ids a search may return (the caller's visibility), compiled into
# the search query itself so totals and pages only ever count what the caller may see.
Within = Select[str]


class IndexFields(TypedDict):
    """What is indexed for one record. `meta` is free text: document number, author, keywords."""

    title: str
    body: str
    meta: str


@dataclass(frozen=True)
class Hit:
    record_id: str
    score: float  # higher is better; comparable only within one result page's backend
    snippet: str  # plain text, matches wrapped in 【】; escape before rendering as HTML


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[Hit]


class SearchIndex(Protocol):
    def ddl(self) -> list[str]:
        """Statements that create the index tables (idempotent; run from a migration)."""
        ...

    def index(self, conn: Connection | Session, record_id: str, fields: IndexFields) -> None:
        """Add or replace the entry for `record_id` (in the caller's transaction)."""
        ...

    def remove(self, conn: Connection | Session, record_id: str) -> None:
        """Drop the entry for `record_id`, if present."""
        ...

    def search(
        self,
        conn: Connection | Session,
        query: str,
        limit: int = 20,
        offset: int = 0,
        *,
        within: Within | None = None,
    ) -> SearchPage:
        """Records matching every token of `query`, best first. The query is plain text.

        With `within`, only records whose id it selects are matched, counted and ranked.
        """
        ...
