"""Archiving one submission. Order:

  ask the policy (submit) → validate metadata → measure files (digests, format, text)
  → [lock the source id] → an earlier identical submission? its receipt
  → classify → write content to every replica (content-addressed: a retry is harmless)
  → ONE unit of work (archival code, catalogue rows, signed version, report, ledger event,
  checkpoint, outbox, stored receipt) → after the commit: package metadata into OCFL and the
  index (the outbox, also drained at every start).

Every check precedes the first write, so bad input writes nothing; a submission refused at its
commit (the ledger's check, a constraint) removes the content it staged before raising.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dangan.access.visibility import link_access
from dangan.arrangement.numbering import Placement, assign_code
from dangan.core.clock import iso
from dangan.core.errors import ConflictError, InvalidInputError, Problem
from dangan.integrity.domain import ReceiptFacts, receipt_report
from dangan.metadata import classify, validate
from dangan.metadata.undated import undated
from dangan.metadata.values import display_value
from dangan.policy.domain import SUBMIT
from dangan.records.domain import (
    FileFacts,
    Submission,
    file_entry,
    record_id_for,
    submission_digest,
    year_of,
)
from dangan.records.locks import source_lock
from dangan.records.models import (
    STATUS_ARCHIVED,
    STATUS_PENDING,
    CheckReport,
    Record,
    RecordFile,
    RecordText,
)
from dangan.records.outbox import drain_outbox
from dangan.records.packages import add_version, package_description
from dangan.records.ports import RecordsDeps
from dangan.records.receipts import Receipt, issue_receipt, stored_receipt
from dangan.records.receiving import check_file_list, measure_file
from dangan.records.staging import stage_content, unstage
from dangan.usecase import Actor, UnitOfWork, authorize, use_case
from dangan.usecase.uow import Recorded

ARCHIVED, QUEUED = "record.archived", "record.queued"
log = logging.getLogger("dangan.records")


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


@use_case(ARCHIVED, QUEUED)
def archive_submission(deps: RecordsDeps, actor: Actor, sub: Submission) -> Receipt:
    """Archive one submission; idempotent per (source system, source id).

    A retry with the same content gets the first receipt; the same source id with other
    content is `source_id_reused`. Queued (待整理) when no rule classifies it with confidence.
    """
    authorize(deps, actor, SUBMIT, event=ARCHIVED, source_id=sub.source_id)
    metadata, facts = _measure(deps, sub)  # every check first: bad input writes nothing
    record_id = record_id_for(sub.source_system, sub.source_id)
    with source_lock(deps.engine, deps.settings.resolved_data_dir, record_id):
        earlier = _earlier_answer(deps, sub, submission_digest(metadata, facts))
        if earlier is not None:
            return earlier
        try:
            prep = _prepare(deps, sub, metadata, facts)
            with UnitOfWork(deps, actor) as uow:
                placed = _commit(uow, deps, sub, prep)
        except BaseException:
            _unstage_unless_committed(deps, record_id)
            raise
        receipt = issue_receipt(deps, record_id, placed.seq)
    drain_outbox(deps, record_id=record_id)
    return receipt


# --- before the transaction --------------------------------------------------------------


def _measure(deps: RecordsDeps, sub: Submission) -> tuple[dict[str, Any], list[FileFacts]]:
    settings = deps.settings
    problems: list[Problem] = []
    fonds = sub.fonds or settings.default_fonds
    if fonds not in {f.code for f in settings.fonds}:
        problems.append(
            Problem("fonds", "unknown_fonds", f"未配置的全宗号：{fonds}", f"unknown fonds {fonds}")
        )
    if sub.category not in {cat.code for cat in settings.categories}:
        problems.append(
            Problem(
                "category",
                "unknown_category",
                f"未配置的门类：{sub.category}",
                f"unknown category {sub.category}",
            )
        )
        raise InvalidInputError.of(problems)
    metadata, meta_problems = validate(
        deps.schemas.get(sub.category), sub.metadata, "submission", allow_undated=True
    )
    problems += meta_problems
    problems += check_file_list(sub.files, settings.storage.max_files_per_submission)
    facts: list[FileFacts] = []
    if not problems:
        for i, f in enumerate(sub.files):
            got, found = measure_file(i, f, settings.storage.max_file_bytes)
            problems += found
            if got is not None:
                facts.append(got)
    if problems:
        raise InvalidInputError.of(problems)
    return metadata, facts


def _earlier_answer(deps: RecordsDeps, sub: Submission, digest: str) -> Receipt | None:
    """The first receipt when this source id was archived before with the same content."""
    with deps.sessions() as session:
        rec = session.scalars(
            select(Record).where(
                Record.source_system == sub.source_system, Record.source_id == sub.source_id
            )
        ).one_or_none()
        if rec is None:
            return None
        if rec.submission_digest != digest:
            raise ConflictError(
                code="source_id_reused",
                zh=f"来源系统 {rec.source_system} 的业务标识 {rec.source_id} "
                "已用于另一份不同的提交",
                en=f"source id {rec.source_id} of {rec.source_system} was already used for a "
                "different submission",
            )
        return stored_receipt(session, rec)


def _prepare(
    deps: RecordsDeps, sub: Submission, metadata: dict[str, Any], facts: list[FileFacts]
) -> Prepared:
    """Classify and put the content on every replica: the last step before the transaction."""
    fonds = sub.fonds or deps.settings.default_fonds
    record_id = record_id_for(sub.source_system, sub.source_id)
    result = classify(deps.schedule, metadata)
    year = year_of(metadata.get("year"), metadata.get("date"))
    if year is None:  # undated: an archivist gives the year when confirming
        result = undated(result)
    placement = None
    if result.classified and year is not None:
        placement = Placement(fonds, sub.category, year, str(result.retention), result.org)
    return Prepared(
        record_id=record_id,
        fonds=fonds,
        category=sub.category,
        metadata=metadata,
        files=facts,
        digest=submission_digest(metadata, facts),
        classification=_no_floats(result.as_dict()),
        placement=placement,
        replica_counts=stage_content(deps.roots, record_id, sub.files, facts),
    )


def _unstage_unless_committed(deps: RecordsDeps, record_id: str) -> None:
    """Staging or the transaction failed: remove the content staged for it from every root.

    A failure can also come after the commit (waiting for the ledger's batch): the record then
    stands and its content is its own, so the database is asked first; in doubt (it cannot
    answer) the content stays for `recover`, which keeps what a committed record owns."""
    try:
        with deps.sessions() as session:
            committed = session.scalar(select(Record.id).where(Record.id == record_id))
    except Exception as exc:  # best effort: the original failure is what the caller sees
        log.warning("staged content of %s left until recover: %s", record_id, exc)
        return
    if committed is None:
        unstage(deps.roots, record_id)


def _no_floats(value: Any) -> Any:
    """Confidence scores become strings: signed package JSON carries no floats."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return {k: _no_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_floats(v) for v in value]
    return value


# --- the transaction -----------------------------------------------------------------------


def _commit(uow: UnitOfWork, deps: RecordsDeps, sub: Submission, prep: Prepared) -> Recorded:
    session, at = uow.session, uow.at
    code = piece = None
    if prep.placement is not None:
        piece, code = assign_code(session, deps.code_format, prep.placement)
    meta = _system_metadata(deps, prep, code, piece, iso(at))
    report = receipt_report(_receipt_facts(deps, sub, prep, code))
    rec = _record_row(sub, prep, meta, code, piece, at)
    session.add(rec)
    description = _description(sub, prep, rec, meta, report.as_dict())
    signature = add_version(session, deps.suite, rec, description, at, "归档 archived")
    session.flush()  # the record row first: the rows below reference it
    link_access(session, rec.id, prep.fonds, meta, prep.placement.org if prep.placement else None)
    session.add(RecordText(record_id=rec.id, text="\n".join(f.text for f in prep.files)))
    session.add(
        CheckReport(
            record_id=rec.id,
            stage="receipt",
            passed=report.passed,
            report_json=json.dumps(report.as_dict(), ensure_ascii=False),
            created_at=at,
        )
    )
    return uow.record(
        ARCHIVED if code else QUEUED,
        target=rec.id,
        archival_code=code,
        source_id=sub.source_id,
        files=[{"name": f.name, "sm3": f.sm3} for f in prep.files],
        package_signature=signature["value"],
    )


def _description(
    sub: Submission, prep: Prepared, rec: Record, meta: dict[str, Any], checks: dict[str, Any]
) -> dict[str, Any]:
    return package_description(
        rec_id=prep.record_id,
        status=rec.status,
        meta=meta,
        files=[file_entry(f) for f in prep.files],
        source={"system": sub.source_system, "id": sub.source_id},
        classification=prep.classification,
        version=1,
        submission_digest=prep.digest,
        checks=checks,
    )


def _record_row(  # noqa: PLR0917 - the row's parts
    sub: Submission,
    prep: Prepared,
    meta: dict[str, Any],
    code: str | None,
    piece: int | None,
    at: datetime,
) -> Record:
    placed = prep.placement
    rec = Record(
        id=prep.record_id,
        fonds_code=prep.fonds,
        category_code=prep.category,
        status=STATUS_ARCHIVED if code else STATUS_PENDING,
        archival_code=code,
        year=placed.year if placed else None,
        retention=placed.retention if placed else None,
        org_code=placed.org if placed else None,
        piece=piece,
        title=str(meta["title"]),
        document_number=display_value(meta.get("document_number")),
        author=display_value(meta.get("author")),
        doc_date=display_value(meta.get("date")),
        source_system=sub.source_system,
        source_id=sub.source_id,
        submission_digest=prep.digest,
        version=0,
        received_at=at,
        archived_at=at if code else None,
        classification_json=json.dumps(prep.classification, ensure_ascii=False),
    )
    rec.files.extend(_file_rows(prep.files))
    return rec


def _file_rows(files: list[FileFacts]) -> list[RecordFile]:
    return [
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
        for i, f in enumerate(files)
    ]


def _system_metadata(
    deps: RecordsDeps, prep: Prepared, code: str | None, piece: int | None, now: str
) -> dict[str, Any]:
    """The producer's metadata plus what Dangan records about the archiving itself."""
    settings = deps.settings
    fonds_name = next(f.name for f in settings.fonds if f.code == prep.fonds)
    meta = dict(prep.metadata)
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
            "agent_name": settings.instance_name,
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


def _receipt_facts(
    deps: RecordsDeps, sub: Submission, prep: Prepared, code: str | None
) -> ReceiptFacts:
    declared = sum(
        (f.declared_sm3 is not None) + (f.declared_sha256 is not None) for f in sub.files
    )
    valid = None
    if code is not None:
        try:
            deps.code_format.parse(code)
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
