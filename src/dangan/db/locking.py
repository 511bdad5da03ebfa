"""Row locks that serialise allocation on PostgreSQL; on SQLite BEGIN IMMEDIATE already does."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

S = TypeVar("S", bound=Select[Any])


def for_update(stmt: S) -> S:
    """Add FOR UPDATE (a no-op on SQLite, whose writers are serialised by BEGIN IMMEDIATE)."""
    return stmt.with_for_update()
