"""The review queue (待整理): submissions no rule classified with confidence.

They are stored and on the ledger but carry no archival code until an archivist confirms
retention and 机构(问题) — and, for an undated record (no 日期, or 不详), its 年度, which only the
archivist can give; confirming (the policy's `arrange`, archivists only) numbers the
record in the same transaction as its new version and its ledger event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from dangan.access.visibility import link_access
from dangan.arrangement.numbering import Placement, assign_code
from dangan.core.clock import iso
from dangan.core.errors import ConflictError, InvalidInputError, Problem
from dangan.policy.domain import ARRANGE
from dangan.records.domain import year_of
from dangan.records.lookup import open_record
from dangan.records.models import STATUS_ARCHIVED, STATUS_PENDING
from dangan.records.outbox import drain_outbox
from dangan.records.packages import add_version, current_description
from dangan.records.ports import RecordsDeps
from dangan.records.receipts import Receipt, issue_receipt
from dangan.usecase import Actor, UnitOfWork, use_case

ARCHIVED = "record.archived"
ARRANGE_EVENT = ARCHIVED  # a refused confirmation is recorded as a denied archiving
RETENTION_CODES = {
    "Y": "Y",
    "永久": "Y",
    "D30": "D30",
    "定期30年": "D30",
    "D10": "D10",
    "定期10年": "D10",
}


def _check_inputs(retention: str, org: str | None) -> tuple[str, str | None]:
    problems = []
    code = RETENTION_CODES.get(retention.strip())
    if code is None:
        problems.append(
            Problem(
                "retention",
                "unknown_value",
                f"保管期限须为 {'/'.join(RETENTION_CODES)} 之一，收到 {retention!r}",
                f"retention must be one of {', '.join(RETENTION_CODES)}; got {retention!r}",
            )
        )
    org_code = org.strip() if org else None
    if org_code is not None and not (1 <= len(org_code) <= 20 and org_code.isalnum()):
        problems.append(
            Problem(
                "org",
                "bad_org_code",
                "机构（问题）代码须为 1–20 位字母、数字或汉字",
                "the organisation code must be 1–20 letters, digits or Chinese characters",
            )
        )
    if problems or code is None:
        raise InvalidInputError.of(problems)
    return code, org_code


def _year(given: int | None, dated: int | None) -> int:
    """年度 of a confirmed record: its own (from 日期 or 年度), else the archivist's."""
    problem = None
    if given is not None and not 1 <= given <= 9999:
        problem = Problem(
            "year", "bad_year", f"年度 {given} 应为 4 位公历年", f"year {given} must be 1-9999"
        )
    elif dated is None and given is None:
        problem = Problem(
            "year",
            "year_required",
            "该文件无日期：确认时须核定年度（year）",
            "the record is undated: give its year when confirming",
        )
    elif dated is not None and given is not None and given != dated:
        problem = Problem(
            "year",
            "year_mismatch",
            f"年度 {given} 与文件日期的年度 {dated} 不一致（以文件日期定年度）",
            f"year {given} differs from {dated}, the year of the record's date, which decides",
        )
    if problem is not None:
        raise InvalidInputError.of([problem])
    return cast(int, dated if dated is not None else given)


@use_case(ARCHIVED)
def confirm(
    deps: RecordsDeps,
    actor: Actor,
    ref: str,
    *,
    retention: str,
    org: str | None,
    reason: str = "",
    year: int | None = None,
) -> Receipt:
    """Confirm the classification of a queued record and number it.

    `year` is needed for an undated record (the archivist's 年度); a dated one has its own.
    """
    ret, org_code = _check_inputs(retention, org)
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, ARRANGE_EVENT, ARRANGE, lock=True)
        if rec.status != STATUS_PENDING:
            raise ConflictError(
                code="not_pending",
                zh=f"档案 {rec.archival_code or rec.id} 不在待整理队列中",
                en=f"record {rec.archival_code or rec.id} is not in the review queue",
            )
        description = current_description(rec)
        year = _year(year, year_of(description["metadata"].get("year"), rec.doc_date))
        placement = Placement(rec.fonds_code, rec.category_code, year, ret, org_code)
        piece, code = assign_code(uow.session, deps.code_format, placement)
        _arranged(description, actor, uow.at, placement, piece, code, reason, rec.version + 1)
        rec.status, rec.archival_code, rec.piece = STATUS_ARCHIVED, code, piece
        rec.year, rec.retention, rec.org_code, rec.archived_at = year, ret, org_code, uow.at
        signature = add_version(
            uow.session,
            deps.suite,
            rec,
            description,
            uow.at,
            reason or "整理确认 classification confirmed",
        )
        placed = uow.record(
            ARCHIVED,
            target=rec.id,
            archival_code=code,
            confirmed_from_queue=True,
            reason=reason,
            package_signature=signature["value"],
        )
        link_access(uow.session, rec.id, rec.fonds_code, description["metadata"], org_code)
        record_id = rec.id
    receipt = issue_receipt(deps, record_id, placed.seq)
    drain_outbox(deps, record_id=record_id)
    return receipt


def _arranged(  # noqa: PLR0917 - what confirming sets
    description: dict[str, Any],
    actor: Actor,
    at: datetime,
    placement: Placement,
    piece: int,
    code: str,
    reason: str,
    version: int,
) -> None:
    """The queued record's description, now classified and numbered, as version `version`."""
    meta = dict(description["metadata"])
    meta.update(
        {
            "year": placement.year,
            "retention_period": placement.retention,
            "archival_code": code,
            "agency_item_number": piece,
            "business_activity": "整理确认",
            "action_time": iso(at),
            "agent_name": actor.ledger_name,
        }
    )
    if placement.org:
        meta["organizational_unit"] = placement.org
    description.update(
        {
            "metadata": meta,
            "status": STATUS_ARCHIVED,
            "version": version,
            "classification": {
                "classified": True,
                "by": actor.ledger_name,
                "reason": reason,
                "retention": placement.retention,
                "org": placement.org,
            },
        }
    )
