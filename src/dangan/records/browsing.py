"""Lists of records: the catalogue by fonds, year, retention, 机构 and status with facet
counts, and the review queue (待整理). Items, totals and facets all come from SQL under the
same visibility clause, so no count includes a record the actor may not see."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dangan.access.models import RecordAccess
from dangan.metadata.dates import precision_of
from dangan.policy.domain import ARRANGE
from dangan.records.lookup import joined, refused, separated, visible
from dangan.records.models import STATUS_PENDING, Record
from dangan.records.ports import RecordsDeps
from dangan.usecase import Actor, UnitOfWork, use_case

MAX_PAGE_SIZE = 100
BROWSE = "record.browse"
FACETS = (("year", Record.year), ("retention", Record.retention), ("org", Record.org_code))


@dataclass(frozen=True)
class BrowseFilters:
    fonds: str | None = None
    year: int | None = None
    retention: str | None = None
    org: str | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        columns = {
            "fonds": Record.fonds_code,
            "year": Record.year,
            "retention": Record.retention,
            "org": Record.org_code,
            "status": Record.status,
        }
        return [columns[k] == v for k, v in self.as_dict().items()]

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@use_case(BROWSE)
def browse(
    deps: RecordsDeps,
    actor: Actor,
    filters: BrowseFilters | None = None,
    *,
    page: int = 1,
    size: int = 20,
) -> dict[str, Any]:
    """One page of the records the actor may see, with the total and facet counts."""
    chosen = filters or BrowseFilters()
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    asked = {**chosen.as_dict(), "page": page, "size": size}
    with UnitOfWork(deps, actor) as uow:
        if separated(actor.subject):
            raise uow.refuse(refused("separation_of_duties"), BROWSE, **asked)
        conds = [visible(actor.subject, uow.at), *chosen.conditions()]
        total = uow.session.scalar(joined(select(func.count())).where(*conds)) or 0
        found = {
            "total": total,
            "page": page,
            "size": size,
            "items": _items(uow.session, conds, page, size),
            "facets": _facets(uow.session, conds),
        }
        uow.record(BROWSE, total=total, **asked)
        return found


def _items(
    s: Session, conds: list[ColumnElement[bool]], page: int, size: int
) -> list[dict[str, Any]]:
    rows = s.execute(
        joined(
            select(
                Record.id,
                Record.archival_code,
                Record.title,
                Record.doc_date,
                Record.author,
                RecordAccess.security_classification,
            )
        )
        .where(*conds)
        .order_by(Record.archival_code.is_(None), Record.archival_code, Record.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return [
        {
            "record_id": r.id,
            "archival_code": r.archival_code,
            "title": r.title,
            "date": r.doc_date,
            "date_precision": precision_of(r.doc_date),
            "author": r.author,
            "security_classification": r.security_classification,
        }
        for r in rows
    ]


def _facets(s: Session, conds: list[ColumnElement[bool]]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [
            {"value": value, "count": n}
            for value, n in s.execute(
                joined(select(col, func.count()))
                .where(*conds)
                .group_by(col)
                .order_by(col.is_(None), col)
            )
        ]
        for name, col in FACETS
    }


@use_case(BROWSE)
def list_queue(deps: RecordsDeps, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """The review queue (待整理), oldest first: the records the actor may arrange."""
    with UnitOfWork(deps, actor) as uow:
        rows = uow.session.scalars(
            joined(select(Record))
            .where(Record.status == STATUS_PENDING, visible(actor.subject, uow.at, ARRANGE))
            .order_by(Record.received_at)
            .limit(limit)
        ).all()
        queue = [
            {
                "record_id": r.id,
                "title": r.title,
                "date": r.doc_date,
                "date_precision": precision_of(r.doc_date),
                "reasons": json.loads(r.classification_json).get("reasons", []),
            }
            for r in rows
        ]
        uow.record(BROWSE, total=len(queue), status=STATUS_PENDING, size=limit)
        return queue
