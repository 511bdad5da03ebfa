"""Search use case: query the index, then show 档号, 题名, 日期 from the catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.bootstrap import Container
from dangan.core.errors import InvalidInputError, Problem
from dangan.records.models import Record
from dangan.search.interfaces import Within

MAX_QUERY = 200


def checked_query(query: str) -> str:
    q = query.strip()
    if not q or len(q) > MAX_QUERY:
        raise InvalidInputError.of(
            [
                Problem(
                    "query",
                    "bad_query",
                    f"检索词须为 1–{MAX_QUERY} 个字符",
                    f"the query must be 1–{MAX_QUERY} characters",
                )
            ]
        )
    return q


def search_in(  # noqa: PLR0917 - the search's inputs, in order
    c: Container,
    session: Session,
    q: str,
    limit: int = 20,
    offset: int = 0,
    within: Within | None = None,
) -> dict[str, Any]:
    """Run a checked query in `session`, restricted to the ids `within` selects (if given)."""
    page = c.search.search(session, q, limit=limit, offset=offset, within=within)
    ids = [h.record_id for h in page.hits]
    rows = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))}
    hits = []
    for h in page.hits:
        rec = rows.get(h.record_id)
        if rec is None:
            continue
        hits.append(
            {
                "record_id": rec.id,
                "archival_code": rec.archival_code,
                "title": rec.title,
                "date": rec.doc_date,
                "document_number": rec.document_number,
                "score": round(h.score, 4),
                "snippet": h.snippet,
            }
        )
    return {"query": q, "total": page.total, "hits": hits}


def search_records(c: Container, query: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """Unfiltered search, for the operator's CLI (no person, no visibility)."""
    q = checked_query(query)
    with c.sessions() as session:
        return search_in(c, session, q, limit, offset)
