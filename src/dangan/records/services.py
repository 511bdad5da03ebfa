"""Use cases of the archive: archive a submission, confirm a queued one, show, verify.

API, CLI and jobs call these functions, so checks, numbering and ledger events are the same
whichever door a request comes through. Order inside `archive_submission`:

  validate metadata → measure files (digests, format, text) → four-property receipt checks
  → classify → write content to every replica (content-addressed: a retry is harmless)
  → ONE transaction (archival code, catalogue rows, version, report, ledger event, checkpoint,
  outbox) → after commit: package metadata into OCFL and index (outbox, re-run on recovery).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.visibility import link_access
from dangan.arrangement.numbering import Placement, assign_code
from dangan.bootstrap import Container
from dangan.core.canonical import canonical_json
from dangan.core.clock import iso, utcnow
from dangan.core.errors import ConflictError, InvalidInputError, NotFoundError, Problem
from dangan.integrity.domain import ReceiptFacts, receipt_report
from dangan.metadata import classify, validate
from dangan.metadata.values import display_value
from dangan.records import packaging
from dangan.records.domain import (
    FileFacts,
    Submission,
    file_entry,
    package_manifest,
    record_id_for,
    submission_digest,
)
from dangan.records.locks import source_lock
from dangan.records.models import (
    STATUS_ARCHIVED,
    STATUS_PENDING,
    CheckReport,
    OutboxItem,
    Record,
    RecordFile,
    RecordText,
    RecordVersion,
)
from dangan.records.receiving import check_file_list, measure_file

Receipt = dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    """A submission that passed every check and whose content is on every replica."""

    record_id: str
    fonds: str
    category: str
    metadata: dict[str, Any]
    files: list[FileFacts]
    digest: str
    classification: dict[str, Any]
    placement: Placement | None
    replica_counts: list[tuple[int, int]]


def _reject(problems: list[Problem]) -> InvalidInputError:
    return InvalidInputError.of(problems)


def _measure(c: Container, sub: Submission) -> tuple[dict[str, Any], list[FileFacts]]:
    problems: list[Problem] = []
    fonds = sub.fonds or c.settings.default_fonds
    if fonds not in {f.code for f in c.settings.fonds}:
        problems.append(
            Problem("fonds", "unknown_fonds", f"未配置的全宗号：{fonds}", f"unknown fonds {fonds}")
        )
    if sub.category not in {cat.code for cat in c.settings.categories}:
        problems.append(
            Problem(
                "category",
                "unknown_category",
                f"未配置的门类：{sub.category}",
                f"unknown category {sub.category}",
            )
        )
        raise _reject(problems)
    schema = c.schemas.get(sub.category)
    metadata, meta_problems = validate(schema, sub.metadata, "submission")
    problems += meta_problems
    problems += check_file_list(sub.files, c.settings.storage.max_files_per_submission)
    facts: list[FileFacts] = []
    if not problems:
        for i, f in enumerate(sub.files):
            got, found = measure_file(i, f, c.settings.storage.max_file_bytes)
            problems += found
            if got is not None:
                facts.append(got)
    if problems:
        raise _reject(problems)
    return metadata, facts


def _placement(
    c: Container, fonds: str, category: str, metadata: dict[str, Any]
) -> tuple[Placement | None, dict[str, Any]]:
    result = classify(c.schedule, metadata)
    info = _no_floats(result.as_dict())
    if not result.classified:
        return None, info
    year = int(str(metadata.get("year") or str(metadata["date"])[:4]))
    return Placement(fonds, category, year, str(result.retention), result.org), info


def prepare(
    c: Container, sub: Submission, metadata: dict[str, Any], facts: list[FileFacts]
) -> Prepared:
    """Classify and put the content on every replica: the last step before the transaction."""
    fonds = sub.fonds or c.settings.default_fonds
    record_id = record_id_for(sub.source_system, sub.source_id)
    placement, info = _placement(c, fonds, sub.category, metadata)
    counts = packaging.stage_content(c, record_id, sub.files, facts)
    return Prepared(
        record_id=record_id,
        fonds=fonds,
        category=sub.category,
        metadata=metadata,
        files=facts,
        digest=submission_digest(metadata, facts),
        classification=info,
        placement=placement,
        replica_counts=counts,
    )


def _existing(session: Session, sub: Submission) -> Record | None:
    return session.scalars(
        select(Record).where(
            Record.source_system == sub.source_system, Record.source_id == sub.source_id
        )
    ).one_or_none()


def _idempotent_answer(session: Session, rec: Record, digest: str | None) -> Receipt:
    if digest is not None and rec.submission_digest != digest:
        raise ConflictError(
            code="source_id_reused",
            zh=f"来源系统 {rec.source_system} 的业务标识 {rec.source_id} 已用于另一份不同的提交",
            en=f"source id {rec.source_id} of {rec.source_system} was already used for a "
            "different submission",
        )
    if rec.receipt_json:
        stored: Receipt = json.loads(rec.receipt_json)
        return stored
    return receipt_of(session, rec)


def archive_submission(c: Container, sub: Submission) -> Receipt:
    """Archive one submission; idempotent per (source system, source id)."""
    metadata, facts = _measure(c, sub)  # every check first: bad input writes nothing
    record_id = record_id_for(sub.source_system, sub.source_id)
    with source_lock(c, record_id):
        with c.sessions() as session:
            rec = _existing(session, sub)
            if rec is not None:
                return _idempotent_answer(session, rec, submission_digest(metadata, facts))
        prep = prepare(c, sub, metadata, facts)
        with c.sessions.begin() as session:
            receipt = _commit(c, session, sub, prep)
    packaging.drain_outbox(c, record_id=record_id)
    return receipt


def _system_metadata(
    c: Container, prep: Prepared, code: str | None, piece: int | None, now: str
) -> dict[str, Any]:
    meta = dict(prep.metadata)
    fonds_name = next(f.name for f in c.settings.fonds if f.code == prep.fonds)
    meta.update(
        {
            "aggregation_level": "件",
            "fonds_identifier": prep.fonds,
            "fonds_name": fonds_name,
            "fonds_constituting_unit_name": fonds_name,
            "electronic_record_code": prep.record_id,
            "category_code": prep.category,
            "business_status": "历史行为",
            "business_activity": "归档",
            "action_time": now,
            "agent_name": c.settings.instance_name,
            "computer_file_name": [f.name for f in prep.files],
            "computer_file_size": [f.size for f in prep.files],
            "format_information": [f.format_information for f in prep.files],
        }
    )
    if prep.placement is not None:
        meta["year"] = prep.placement.year
        meta["retention_period"] = prep.placement.retention
        if prep.placement.org:
            meta["organizational_unit"] = prep.placement.org
    if code is not None:
        meta["archival_code"] = code
        meta["agency_item_number"] = piece
    return meta


def package_description(
    *,
    rec_id: str,
    status: str,
    meta: dict[str, Any],
    files: list[dict[str, Any]],
    source: dict[str, str],
    classification: dict[str, Any],
    version: int,
    submission_digest: str,
    checks: dict[str, Any],
) -> dict[str, Any]:
    """Everything rebuild needs to recreate the catalogue row; signed as a whole."""
    return {
        "record_id": rec_id,
        "status": status,
        "version": version,
        "metadata": meta,
        "files": files,
        "source": source,
        "classification": classification,
        "submission_digest": submission_digest,
        "receipt_checks": checks,
    }


def _commit(c: Container, session: Session, sub: Submission, prep: Prepared) -> Receipt:
    now_dt = utcnow()
    now = iso(now_dt)
    code = piece = None
    if prep.placement is not None:
        piece, code = assign_code(session, c.code_format, prep.placement)
    status = STATUS_ARCHIVED if code else STATUS_PENDING
    meta = _system_metadata(c, prep, code, piece, now)
    files = [file_entry(f) for f in prep.files]
    report = receipt_report(_receipt_facts(c, sub, prep, code))
    description = package_description(
        rec_id=prep.record_id,
        status=status,
        meta=meta,
        files=files,
        source={"system": sub.source_system, "id": sub.source_id},
        classification=prep.classification,
        version=1,
        submission_digest=prep.digest,
        checks=report.as_dict(),
    )
    signature = sign_package(c, description)
    rec = Record(
        id=prep.record_id,
        fonds_code=prep.fonds,
        category_code=prep.category,
        status=status,
        archival_code=code,
        year=prep.placement.year if prep.placement else None,
        retention=prep.placement.retention if prep.placement else None,
        org_code=prep.placement.org if prep.placement else None,
        piece=piece,
        title=str(meta["title"]),
        document_number=display_value(meta.get("document_number")),
        author=display_value(meta.get("author")),
        doc_date=display_value(meta.get("date")),
        source_system=sub.source_system,
        source_id=sub.source_id,
        submission_digest=prep.digest,
        version=1,
        received_at=now_dt,
        archived_at=now_dt if code else None,
        classification_json=json.dumps(prep.classification, ensure_ascii=False),
    )
    session.add(rec)
    for i, f in enumerate(prep.files):
        rec.files.append(
            RecordFile(
                seq=i + 1,
                role=f.role,
                name=f.name,
                size=f.size,
                sha256=f.sha256,
                sm3=f.sm3,
                mime=f.mime,
                format_name=f.format_name,
                format_version=f.format_version,
                preferred_format=f.preferred_format,
                pages=f.pages,
            )
        )
    rec.versions.append(
        RecordVersion(
            version=1,
            metadata_json=canonical_json(description).decode(),
            signature_json=json.dumps(signature),
            created_at=now_dt,
            reason="归档 archived",
        )
    )
    session.flush()  # the record row first: the rows below reference it
    link_access(session, rec.id, prep.fonds, meta, prep.placement.org if prep.placement else None)
    session.add(RecordText(record_id=rec.id, text="\n".join(f.text for f in prep.files)))
    session.add(
        CheckReport(
            record_id=rec.id,
            stage="receipt",
            passed=report.passed,
            report_json=json.dumps(report.as_dict(), ensure_ascii=False),
            created_at=now_dt,
        )
    )
    event_type = "record.archived" if code else "record.queued"
    appended = c.ledger.append(
        session,
        {
            "type": event_type,
            "actor": f"system:{sub.source_system}",
            "at": now,
            "target": rec.id,
            "outcome": "success",
            "details": {
                "archival_code": code,
                "source_id": sub.source_id,
                "files": [{"name": f.name, "sm3": f.sm3} for f in prep.files],
                "package_signature": signature["value"],
            },
        },
    )
    rec.ledger_seq = appended.seq
    for kind in ("package", "index"):
        session.add(OutboxItem(kind=kind, record_id=rec.id, version=1, created_at=now_dt))
    session.flush()
    receipt = receipt_of(session, rec, c=c)
    rec.receipt_json = json.dumps(receipt, ensure_ascii=False)
    return receipt


def _no_floats(value: Any) -> Any:
    """Confidence scores become strings: signed package JSON carries no floats."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return {k: _no_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_floats(v) for v in value]
    return value


def sign_package(c: Container, description: dict[str, Any]) -> dict[str, str]:
    manifest = package_manifest(description)
    return {
        "algorithm": c.suite.sign_name,
        "hash": c.suite.hash_name,
        "manifest_digest": c.suite.hash(manifest).hex(),
        "value": c.suite.sign(manifest).hex(),
        "public_key": c.suite.public_key().hex(),
    }


def _receipt_facts(c: Container, sub: Submission, prep: Prepared, code: str | None) -> ReceiptFacts:
    declared = sum(
        (f.declared_sm3 is not None) + (f.declared_sha256 is not None) for f in sub.files
    )
    valid = None
    if code is not None:
        try:
            c.code_format.parse(code)
            valid = True
        except InvalidInputError:
            valid = False
    return ReceiptFacts(
        problem_codes=[],
        declared_digests=declared,
        digest_mismatches=[],
        files_received=len(prep.files),
        files_stored_per_replica=[n for n, _ in prep.replica_counts],
        bytes_received=sum(f.size for f in prep.files),
        bytes_stored_per_replica=[b for _, b in prep.replica_counts],
        unreadable_files=[
            f.name for f in prep.files if not f.readable and f.format_name != "unknown"
        ],
        non_preferred_formats=[f.name for f in prep.files if not f.preferred_format],
        archival_code=code,
        archival_code_valid=valid,
        piece_continuous=True if code else None,
    )


def receipt_of(session: Session, rec: Record, c: Container | None = None) -> Receipt:
    """The receipt for a record: code, digests, package signature, ledger proof."""
    version = rec.versions[-1] if rec.versions else None
    signature = json.loads(version.signature_json) if version else None
    receipt: Receipt = {
        "record_id": rec.id,
        "status": rec.status,
        "archival_code": rec.archival_code,
        "title": rec.title,
        "source": {"system": rec.source_system, "id": rec.source_id},
        "files": [
            {
                "name": f.name,
                "size": f.size,
                "sm3": f.sm3,
                "sha256": f.sha256,
                "format": f.format_name,
            }
            for f in rec.files
        ],
        "signature": signature,
        "ledger_seq": rec.ledger_seq,
    }
    if c is not None and rec.ledger_seq is not None:
        receipt["ledger"] = c.ledger.prove(session, rec.ledger_seq)
    return receipt


def get_record(session: Session, ref: str) -> Record:
    """A record by id or archival code."""
    rec = (
        session.get(Record, ref)
        or session.scalars(select(Record).where(Record.archival_code == ref)).one_or_none()
    )
    if rec is None:
        raise NotFoundError(
            code="record_not_found", zh=f"找不到档案：{ref}", en=f"no such record: {ref}"
        )
    return rec
