"""Correcting a record's metadata: a new version with a reason; nothing is overwritten.

Only producer-supplied elements may be corrected; what Dangan derived (archival code parts,
file attributes, process metadata) is not editable here. The corrected description is signed
as version N+1, written to OCFL as vN+1 after the commit (outbox), and the ledger event names
the fields changed, with old and new values, and the reason.

The policy decides inside the edit's transaction twice: once the record is locked, and again
on its corrected access attributes (密级, department), so a permission cannot change between
the check and the edit, and nobody can move a record out of their own reach (e.g. above
their clearance) by editing it — that refusal rolls the edit back and is recorded.
"""

from __future__ import annotations

from typing import Any

from dangan.access.visibility import link_access, record_attrs
from dangan.core.errors import InvalidInputError, Problem
from dangan.core.invisible import invisible_problem
from dangan.metadata import validate
from dangan.metadata.schema import MetadataSchema
from dangan.metadata.values import display_value
from dangan.policy.domain import EDIT
from dangan.records.lookup import open_record, refused
from dangan.records.models import Record
from dangan.records.outbox import drain_outbox
from dangan.records.packages import add_version, current_description
from dangan.records.ports import RecordsDeps
from dangan.usecase import Actor, UnitOfWork, use_case

MAX_REASON = 500
EDITED = "record.edited"


@use_case(EDITED)
def edit_record(
    deps: RecordsDeps, actor: Actor, ref: str, changes: dict[str, Any], reason: str
) -> dict[str, Any]:
    """Correct producer metadata of a record; returns the new version's summary."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, EDITED, EDIT, lock=True)
        description = current_description(rec)
        current = description["metadata"]
        changed = _check(deps.schemas.get(rec.category_code), current, changes, reason)
        description["metadata"] = {**current, **changed}
        description["version"] = rec.version + 1
        signature = add_version(uow.session, deps.suite, rec, description, uow.at, reason.strip())
        _refresh_catalogue(rec, description["metadata"])
        link_access(uow.session, rec.id, rec.fonds_code, description["metadata"], rec.org_code)
        uow.session.flush()
        still = uow.decide(EDIT, record_attrs(uow.session, rec.id))
        if not still.allowed:
            raise uow.refuse(
                refused(still.reason), EDITED, target=rec.id, ref=ref, changes=sorted(changes)
            )
        uow.record(
            EDITED,
            target=rec.id,
            version=rec.version,
            reason=reason.strip(),
            changes={k: {"old": current.get(k), "new": v} for k, v in changed.items()},
            package_signature=signature["value"],
        )
        record_id, version = rec.id, rec.version
        uow.after_commit(lambda: drain_outbox(deps, record_id=record_id))
    return {"record_id": record_id, "version": version, "changed": sorted(changed)}


def _refresh_catalogue(rec: Record, meta: dict[str, Any]) -> None:
    rec.title = str(meta["title"])
    rec.document_number = display_value(meta.get("document_number"))
    rec.author = display_value(meta.get("author"))
    rec.doc_date = display_value(meta.get("date"))


def _check(
    schema: MetadataSchema, current: dict[str, Any], changes: dict[str, Any], reason: str
) -> dict[str, Any]:
    """The validated producer elements that really change; every problem at once."""
    problems: list[Problem] = []
    if not reason.strip() or len(reason) > MAX_REASON:
        problems.append(
            Problem(
                "reason",
                "reason_required",
                f"须说明修改理由（1–{MAX_REASON} 字）",
                f"a reason of 1–{MAX_REASON} characters is required",
            )
        )
    hidden = invisible_problem("reason", reason, "修改理由（reason）", "reason", multiline=True)
    if hidden is not None:
        problems.append(hidden)
    editable = {el.key for el in schema.elements if el.source == "producer"}
    for name in changes:
        el = schema.get(name)
        if el is not None and el.key not in editable:
            problems.append(
                Problem(
                    name,
                    "not_editable",
                    f"{el.zh}由系统生成，不能修改",
                    f"{el.key} is set by the system and cannot be edited",
                )
            )
    producer_now = {k: v for k, v in current.items() if k in editable}
    normalised, found = validate(schema, {**producer_now, **changes}, "submission")
    # A repeatable element's problems name its value: keywords[1].
    problems += [
        p for p in found if p.field.split("[")[0] in changes or p.code == "missing_mandatory"
    ]
    # Defaults and derived values (年度 from 日期…) are not the editor's to change here.
    merged = {k: v for k, v in normalised.items() if k in editable}
    if not problems and all(producer_now.get(k) == merged.get(k) for k in merged):
        problems.append(Problem("changes", "no_change", "没有任何改动", "nothing would change"))
    if problems:
        raise InvalidInputError.of(problems)
    return {k: v for k, v in merged.items() if producer_now.get(k) != v}
