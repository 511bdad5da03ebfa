"""The after-commit work of the outbox.

Content is staged into every storage root before the catalogue transaction (`staging`); the
package (metadata.json, metadata.xml, signature.json, OCFL inventory) and the search index are
written after the commit from outbox rows committed with the record. A crash anywhere leaves
either nothing acknowledged (staged content, discarded by `recover`) or an acknowledged record
whose outbox rows `drain_outbox` completes — the same function runs after every ingest and at
every start.
"""

from __future__ import annotations

import itertools
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.clock import utcnow
from dangan.records.models import OutboxItem, Record, RecordText, RecordVersion
from dangan.records.ports import RecordsDeps
from dangan.records.staging import logical_path
from dangan.search.interfaces import IndexFields
from dangan.storage.domain import FileDigests
from dangan.storage.package_xml import FileInfo, render_package_xml


def _write_package(c: RecordsDeps, item: OutboxItem) -> None:
    with c.sessions() as session:
        rec = session.get(Record, item.record_id)
        ver = session.get(RecordVersion, (item.record_id, item.version))
        if rec is None or ver is None:
            return
        description = json.loads(ver.metadata_json)
        files = {
            logical_path(f["name"]): FileDigests(
                sha512=f["sha512"], sm3=f["sm3"], size=f["size"], sha256=f["sha256"]
            )
            for f in description["files"]
        }
        labels = {el.key: el.zh for el in c.schemas.get(rec.category_code).elements}
        xml = render_package_xml(
            {labels.get(k, k): v for k, v in description["metadata"].items()},
            [
                FileInfo(
                    name=f["name"],
                    size=f["size"],
                    format=f["format_information"],
                    sha256=f["sha256"],
                    sm3=f["sm3"],
                )
                for f in description["files"]
            ],
            created=ver.created_at,
            creator=c.settings.instance_name,
        )
        extra = {
            "metadata.json": ver.metadata_json.encode(),
            "metadata.xml": xml,
            "signature.json": ver.signature_json.encode(),
        }
        for root in c.roots:
            root.write_version(
                rec.id,
                item.version,
                files,
                extra,
                created=ver.created_at,
                message=ver.reason,
                user_name=c.settings.instance_name,
            )


def index_fields(rec: Record, text: str) -> IndexFields:
    """What the search index holds of a record: title, full text, and the catalogue's
    identifying values (档号, 文号, 责任者, 日期)."""
    meta = " ".join(
        str(v) for v in (rec.archival_code, rec.document_number, rec.author, rec.doc_date) if v
    )
    return {"title": rec.title, "body": text, "meta": meta}


def _write_index(c: RecordsDeps, session: Session, record_id: str) -> None:
    rec = session.get(Record, record_id)
    if rec is None:
        return
    text = session.get(RecordText, rec.id)
    c.search.index(session, rec.id, index_fields(rec, text.text if text else ""))


def _pending(c: RecordsDeps, record_id: str | None, limit: int | None) -> list[OutboxItem]:
    with c.sessions() as session:
        stmt = select(OutboxItem).where(OutboxItem.done_at.is_(None)).order_by(OutboxItem.id)
        if record_id is not None:
            stmt = stmt.where(OutboxItem.record_id == record_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(session.scalars(stmt))


def drain_outbox(c: RecordsDeps, record_id: str | None = None, limit: int | None = None) -> int:
    """Run pending outbox items in order; returns how many completed.

    Items of one record go together: package versions are written to every root first, then
    one transaction indexes the record and marks the items done, so a crash in between only
    repeats idempotent work.
    """
    done = 0
    items = _pending(c, record_id, limit)
    groups = [list(g) for _, g in itertools.groupby(items, key=lambda i: i.record_id)]
    for group in groups:
        ids = [i.id for i in group]
        try:
            for item in group:
                if item.kind == "package":
                    _write_package(c, item)
            with c.sessions.begin() as session:
                if any(i.kind == "index" for i in group):
                    _write_index(c, session, group[0].record_id)
                now = utcnow()
                for row in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
                    row.done_at = now
                    row.attempts += 1
        except Exception as exc:
            with c.sessions.begin() as session:
                for row in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
                    row.attempts += 1
                    row.last_error = repr(exc)[:2000]
            raise
        done += len(group)
    return done
