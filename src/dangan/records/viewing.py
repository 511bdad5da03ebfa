"""Looking at one record: its description, its history, and proofs of its ledger events —
each decided by the policy and on the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dangan.core.errors import IntegrityFailure, NotFoundError
from dangan.ledger.models import LedgerEntry
from dangan.policy.domain import READ_METADATA
from dangan.records.domain import LedgerFinding
from dangan.records.ledger_check import (
    check_event,
    linked_positions,
    links_of,
    missing_entry,
    parsed_event,
)
from dangan.records.lookup import open_record, recorded_failure
from dangan.records.ports import RecordsDeps
from dangan.records.queries import details_of, history_of
from dangan.usecase import Actor, UnitOfWork, use_case

# Events of reading a record: kept in the ledger for auditors, left out of the record's
# own history (which would otherwise grow with every look, and tell who looked).
ACCESS_EVENTS = frozenset(
    {
        "record.viewed",
        "record.downloaded",
        "record.history_viewed",
        "record.proof_viewed",
    }
)


@use_case("record.viewed")
def get_metadata(deps: RecordsDeps, actor: Actor, ref: str) -> dict[str, Any]:
    """The record's full description (catalogue, metadata, files, versions, checks)."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, "record.viewed", READ_METADATA)
        uow.record("record.viewed", target=rec.id, version=rec.version)
        return details_of(uow.session, rec)


@use_case("record.history_viewed")
def history(deps: RecordsDeps, actor: Actor, ref: str) -> dict[str, Any]:
    """Versions and the record's own ledger events (its lifecycle, not who looked at it)."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, "record.history_viewed", READ_METADATA)
        found = history_of(uow.session, rec, ACCESS_EVENTS)
        found["events"] = [e for e in found["events"] if e.get("outcome") != "denied"]
        uow.record("record.history_viewed", target=rec.id)
        return found


def _entry_not_found(seq: int) -> NotFoundError:
    return NotFoundError(
        code="ledger_entry_not_found",
        zh=f"该档案没有序号为 {seq} 的审计事件",
        en=f"the record has no audit event {seq}",
    )


def _event_fails(seq: int, found: list[LedgerFinding]) -> IntegrityFailure:
    return IntegrityFailure(
        code="ledger_event_invalid",
        zh=f"该档案的审计事件 {seq} 未通过校验：" + "；".join(f.zh for f in found),
        en=f"the record's audit event {seq} fails its checks: " + "; ".join(f.en for f in found),
    )


@use_case("record.proof_viewed")
def proof(deps: RecordsDeps, actor: Actor, ref: str, seq: int) -> dict[str, Any]:
    """The inclusion proof bundle of one of the record's own events (as `history` lists),
    once the event is checked as `verify` checks it: an altered or missing one is a failure
    naming its position, not a proof that would not verify."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, "record.proof_viewed", READ_METADATA)
        with recorded_failure(uow, "record.proof_viewed", rec, ref):
            text = uow.session.scalar(
                select(LedgerEntry.event).where(
                    LedgerEntry.seq == seq, LedgerEntry.target == rec.id
                )
            )
            if text is None:
                if seq in linked_positions(links_of(rec)):
                    raise _event_fails(seq, [missing_entry(seq)])
                raise _entry_not_found(seq)
            event = parsed_event(text) or {}
            if event.get("type") in ACCESS_EVENTS or event.get("outcome") == "denied":
                raise _entry_not_found(seq)
            # a proof of an altered event would not verify: say so rather than hand it out
            found = check_event(uow.session, deps.ledger, rec.id, seq, text)
            if found:
                raise _event_fails(seq, found)
            bundle = deps.ledger.prove(uow.session, seq)
        uow.record("record.proof_viewed", target=rec.id, seq=seq)
        return bundle
