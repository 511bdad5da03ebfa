"""What a query may be before it reaches an index: 1–200 characters of plain text."""

from __future__ import annotations

from dangan.core.errors import invalid

MAX_QUERY = 200


def checked_query(query: str) -> str:
    q = query.strip()
    if not q or len(q) > MAX_QUERY:
        raise invalid(
            "query",
            "bad_query",
            f"检索词须为 1–{MAX_QUERY} 个字符",
            f"the query must be 1–{MAX_QUERY} characters",
        )
    return q
