"""Recreate the catalogue from the storage roots alone.

Every OCFL object carries, per version, metadata.json (the whole package description the
system signed, with its receipt-stage check report) and signature.json, so records, files,
versions, check reports, piece counters and the search index can be rebuilt without the
database; each signature is verified before a row is written. The ledger comes back from its
copy in the storage roots (`dangan.ledger.mirror`), and a `catalogue.rebuilt` event follows.
Not kept in storage: the receipts as first given (a retry after a rebuild gets a fresh one).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.access.visibility import link_access
from dangan.arrangement.models import PieceCounter
from dangan.arrangement.reference import ensure_reference_data
from dangan.content import extract_text, identify
from dangan.core.errors import DanganError, IntegrityFailure
from dangan.crypto import verify_signature
from dangan.ledger import copies, mirror
from dangan.metadata.values import display_value
from dangan.records.domain import package_manifest
from dangan.records.models import (
    STATUS_ARCHIVED,
    CheckReport,
    Record,
    RecordFile,
    RecordText,
    RecordVersion,
)
from dangan.records.outbox import index_fields
from dangan.records.ports import RecordsDeps
from dangan.records.receipts import latest_placing
from dangan.records.staging import logical_path
from dangan.storage import OcflStorageRoot
from dangan.storage.interfaces import BlobStore
from dangan.usecase import Actor, UnitOfWork


@dataclass
class RebuildReport:
    records: int = 0
    ledger_entries: int = 0
    skipped: list[str] = field(default_factory=list)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _read_versions(
    root: OcflStorageRoot, object_id: str
) -> list[tuple[dict[str, Any], str, datetime, str]]:
    inv = root.read_inventory(object_id)
    head = int(str(inv["head"])[1:])
    out = []
    for v in range(1, head + 1):
        meta_json = root.read_file(object_id, "metadata.json", version=v).decode()
        sig_json = root.read_file(object_id, "signature.json", version=v).decode()
        info = inv["versions"][f"v{v}"]
        out.append((json.loads(meta_json), sig_json, _parse_time(info["created"]), info["message"]))
        sig = json.loads(sig_json)
        manifest = package_manifest(json.loads(meta_json))
        if not verify_signature(
            sig["algorithm"],
            bytes.fromhex(sig["public_key"]),
            manifest,
            bytes.fromhex(sig["value"]),
        ):
            raise IntegrityFailure(
                code="package_signature_invalid",
                zh=f"第 {v} 版的系统签名无效",
                en=f"v{v} signature does not verify",
            )
    return out


def _record_from(versions: list[tuple[dict[str, Any], str, datetime, str]]) -> Record:
    head = versions[-1][0]
    meta = head["metadata"]
    archived_at = next((t for d, _s, t, _m in versions if d["status"] == STATUS_ARCHIVED), None)
    placed = bool(head["classification"].get("classified"))
    rec = Record(
        id=head["record_id"],
        fonds_code=meta["fonds_identifier"],
        category_code=meta["category_code"],
        status=head["status"],
        archival_code=meta.get("archival_code"),
        year=meta.get("year") if placed else None,
        retention=meta.get("retention_period") if placed else None,
        org_code=meta.get("organizational_unit") if placed else None,
        piece=meta.get("agency_item_number"),
        title=meta["title"],
        document_number=display_value(meta.get("document_number")),
        author=display_value(meta.get("author")),
        doc_date=meta.get("date"),
        source_system=head["source"]["system"],
        source_id=head["source"]["id"],
        submission_digest=head["submission_digest"],
        version=len(versions),
        received_at=versions[0][2],
        archived_at=archived_at,
        classification_json=json.dumps(head["classification"], ensure_ascii=False),
        ledger_seq=None,
    )
    for i, f in enumerate(head["files"]):
        rec.files.append(
            RecordFile(
                seq=i + 1,
                role=f["role"],
                name=f["name"],
                size=f["size"],
                sha256=f["sha256"],
                sm3=f["sm3"],
                mime=f["mime"],
                format_name=f["format_name"],
                format_version=f["format_version"],
                preferred_format=f["preferred_format"],
                pages=f["pages"],
            )
        )
    for i, (desc, sig_json, created, message) in enumerate(versions):
        rec.versions.append(
            RecordVersion(
                version=i + 1,
                metadata_json=json.dumps(
                    desc, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ),
                signature_json=sig_json,
                created_at=created,
                reason=message,
            )
        )
    return rec


def rebuild_catalogue(
    c: RecordsDeps, actor: Actor, progress: Callable[[int, int], None] | None = None
) -> RebuildReport:
    """Fill an EMPTY catalogue from storage. The caller creates the schema first.

    Not a unit of work: the rows restored are the storage's, each object in a transaction of
    its own; the `catalogue.rebuilt` event that ends it is the use case's one event."""
    ensure_reference_data(c.sessions, c.settings)
    ids = sorted({oid for root in c.roots for oid in root.list_objects()})
    report = RebuildReport()
    for n, object_id in enumerate(ids, 1):
        versions = None
        for root in c.roots:
            try:
                versions = _read_versions(root, object_id)
                break
            except (DanganError, KeyError) as exc:
                report.skipped.append(f"{root.store.name}:{object_id}: {exc}")
        if versions is None:
            continue
        rec = _record_from(versions)
        text = _extract(c, rec)
        with c.sessions.begin() as session:
            session.add(rec)
            session.flush()
            session.add(RecordText(record_id=rec.id, text=text))
            head_meta = versions[-1][0]["metadata"]
            link_access(session, rec.id, rec.fonds_code, head_meta, rec.org_code)
            checks = versions[0][0].get("receipt_checks")
            if checks:
                session.add(
                    CheckReport(
                        record_id=rec.id,
                        stage="receipt",
                        passed=bool(checks["passed"]),
                        report_json=json.dumps(checks, ensure_ascii=False),
                        created_at=versions[0][2],
                    )
                )
            session.flush()
            c.search.index(session, rec.id, index_fields(rec, text))
        report.records += 1
        if progress:
            progress(n, len(ids))
    _rebuild_counters(c)
    stores = [r.store for r in c.roots]
    copy = mirror.best_copy(stores)
    if copy is not None:
        with c.sessions.begin() as session:
            report.ledger_entries = copies.restore(session, c.ledger, copy)
            _relink(session, [copy, *stores])
    with UnitOfWork(c, actor) as uow:  # its event extends the restored log, checked by guard
        uow.record(
            "catalogue.rebuilt",
            target="catalogue",
            records=report.records,
            skipped=len(report.skipped),
        )
    return report


def _relink(session: Session, stores: list[BlobStore]) -> None:
    """Point each record at its latest placing event and give it back its receipt as first
    given (kept in the storage copies), as before the loss."""
    given: dict[str, dict[str, Any]] = {}
    for store in reversed(stores):  # the first store (the longest copy) wins
        given.update(mirror.receipts(store))
    for rec in session.scalars(select(Record)):
        rec.ledger_seq = latest_placing(session, rec.id)
        if rec.id in given:
            rec.receipt_json = json.dumps(given[rec.id], ensure_ascii=False, sort_keys=True)


def _extract(c: RecordsDeps, rec: Record) -> str:
    texts = []
    for f in rec.files:
        for root in c.roots:
            try:
                data = root.read_file(rec.id, logical_path(f.name))
            except DanganError:
                continue
            texts.append(extract_text(data, identify(data, f.name)).text)
            break
    return "\n".join(texts)


def _rebuild_counters(c: RecordsDeps) -> None:
    with c.sessions.begin() as session:
        rows = session.execute(
            select(
                Record.fonds_code,
                Record.category_code,
                Record.year,
                Record.retention,
                Record.org_code,
                func.max(Record.piece),
            )
            .where(Record.piece.is_not(None))
            .group_by(
                Record.fonds_code,
                Record.category_code,
                Record.year,
                Record.retention,
                Record.org_code,
            )
        ).all()
        for fonds, cat, year, ret, org, last in rows:
            session.add(
                PieceCounter(
                    fonds=fonds,
                    category=cat,
                    year=year,
                    retention=ret,
                    org=org or "",
                    last_piece=last,
                )
            )
