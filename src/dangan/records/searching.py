"""Full-text search over the records an actor may see, filtered inside the query so totals
and pages only ever count visible records: a person sees what the policy lets them read, a
business system (read_catalogue) only what it submitted itself, Dangan itself everything.
Every query is on the ledger (`search.query`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dangan.metadata.dates import precision_of
from dangan.policy.domain import SYSTEM
from dangan.records.lookup import joined, refused, separated, visible
from dangan.records.models import Record
from dangan.records.ports import RecordsDeps
from dangan.search.interfaces import SearchPage
from dangan.search.query import checked_query
from dangan.usecase import Actor, UnitOfWork, use_case

SEARCHED = "search.query"


def _within(actor: Actor, at: datetime) -> Select[Any]:
    """The ids the actor may find."""
    if actor.kind == SYSTEM:
        return select(Record.id).where(Record.source_system == actor.name)
    return joined(select(Record.id)).where(visible(actor.subject, at))


@use_case(SEARCHED)
def search(
    deps: RecordsDeps, actor: Actor, q: str, limit: int = 20, offset: int = 0
) -> dict[str, Any]:
    """Hits best first: 档号, 题名, 日期, 文号, score and a snippet with matches in 【】."""
    query = checked_query(q)
    with UnitOfWork(deps, actor) as uow:
        if separated(actor.subject):
            raise uow.refuse(refused("separation_of_duties"), SEARCHED, q=query)
        page = deps.search.search(
            uow.session, query, limit=limit, offset=offset, within=_within(actor, uow.at)
        )
        uow.record(SEARCHED, q=query, total=page.total, limit=limit, offset=offset)
        return {"query": query, "total": page.total, "hits": _hits(uow.session, page)}


def _hits(session: Session, page: SearchPage) -> list[dict[str, Any]]:
    ids = [h.record_id for h in page.hits]
    rows = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))}
    return [
        {
            "record_id": rec.id,
            "archival_code": rec.archival_code,
            "title": rec.title,
            "date": rec.doc_date,
            "date_precision": precision_of(rec.doc_date),
            "document_number": rec.document_number,
            "score": round(h.score, 4),
            "snippet": h.snippet,
        }
        for h in page.hits
        if (rec := rows.get(h.record_id)) is not None
    ]
