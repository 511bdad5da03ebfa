"""Search use case: query the index, then show 档号, 题名, 日期 from the catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dangan.bootstrap import Container
from dangan.core.errors import InvalidInputError, Problem
from dangan.records.models import Record

MAX_QUERY = 200


def search_records(c: Container, query: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
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
    with c.sessions() as session:
        page = c.search.search(session, q, limit=limit, offset=offset)
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
