"""A record's own ledger events, checked where they are: the events that placed and changed it.

Its positions are the ones it links to (its placing event, `Record.ledger_seq`, and the one its
receipt proves) and the events in the database that changed it (found by target). Each must
still be there, its stored text must hash to its leaf, it must name the record (a linked one
must place it), and its inclusion proof must lead to a signed checkpoint under the log's key;
each version of the record must have the event that added it (by the package signature it
carries). `ledger verify` checks the whole log; this is one record's share of it, for `verify`
and the proof view.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.core.errors import DanganError
from dangan.crypto import verifier_for
from dangan.ledger.bundles import verify_proof_bundle
from dangan.ledger.domain import leaf_hash
from dangan.ledger.models import LedgerEntry, LedgerPending
from dangan.ledger.store import Ledger
from dangan.records.domain import (
    CHANGING,
    PLACING,
    LedgerFinding,
    at_position,
    event_findings,
    match_versions,
    signed_version,
    unrecorded_version,
)
from dangan.records.models import Record


@dataclass(frozen=True)
class RecordLinks:
    """What the catalogue says about a record's events, read in the use case's transaction."""

    record_id: str
    ledger_seq: int | None  # its placing event
    receipt: dict[str, Any] | None  # as given
    versions: list[tuple[int, str]]  # (version, package signature)


def links_of(rec: Record) -> RecordLinks:
    return RecordLinks(
        record_id=rec.id,
        ledger_seq=rec.ledger_seq,
        receipt=json.loads(rec.receipt_json) if rec.receipt_json else None,
        versions=[(v.version, json.loads(v.signature_json)["value"]) for v in rec.versions],
    )


@dataclass
class LedgerCheck:
    positions: dict[int, str] = field(default_factory=dict)  # seq -> what it recorded
    findings: list[LedgerFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth saying, not wrong (zh / en)

    @property
    def failed(self) -> set[int]:
        return {f.seq for f in self.findings if f.seq is not None}


def check_record_events(session: Session, ledger: Ledger, links: RecordLinks) -> LedgerCheck:
    """Every position of the record checked (see the module), and its versions matched."""
    out = LedgerCheck()
    linked = linked_positions(links)
    if links.ledger_seq is None:
        out.findings.append(
            LedgerFinding(
                "ledger_link_missing",
                "档案未链接到放置它的账本事件（dangan recover 可补链）",
                "the record is not linked to the ledger event that placed it (dangan recover "
                "links it)",
            )
        )
    texts = _own_events(session, links.record_id)
    texts.update(_entries(session, [s for s in linked if s not in texts]))
    changing: dict[int, dict[str, Any]] = {}
    for seq in sorted({*linked, *texts}):
        found = _check_position(session, ledger, links, seq, texts.get(seq), seq in linked)
        out.findings += found
        event = parsed_event(texts.get(seq))
        if event is not None and event.get("target") == links.record_id:
            changing[seq] = event
        out.positions[seq] = str(event.get("type")) if event else "缺失 missing"
    added, stray = match_versions(links.versions, changing)
    out.findings += stray
    queued = _queued_signatures(session) if len(added) < len(links.versions) else set()
    for version, signature in links.versions:
        if version in added:
            seq = added[version]
            out.positions[seq] = f"v{version} {out.positions[seq]}"
        elif signature in queued:
            out.notes.append(f"v{version} 的事件待排序 / v{version}'s event is queued")
        else:
            out.findings.append(unrecorded_version(version))
    return out


def check_event(  # noqa: PLR0917 - one event and what it must be
    session: Session,
    ledger: Ledger,
    record_id: str,
    seq: int,
    text: str,
    kinds: Collection[str] | None = None,
) -> list[LedgerFinding]:
    """One of the record's events (as the proof view hands it out): its leaf, that it names
    the record (with `kinds`: as one of those events), and its proof."""
    found = _leaf_findings(session, ledger, seq, text)
    found += event_findings(seq, text, record_id, kinds)
    found += _proof_findings(session, ledger, seq)
    return found


def linked_positions(links: RecordLinks) -> set[int]:
    """The positions the record links to: its placing event, and the one its receipt proves."""
    linked = {links.ledger_seq} if links.ledger_seq is not None else set()
    given = (links.receipt or {}).get("ledger_seq")
    if isinstance(given, int):
        linked.add(given)
    return linked


def _own_events(session: Session, record_id: str) -> dict[int, str]:
    """The events in the database that changed the record (and any it cannot read)."""
    own = {}
    rows = session.execute(
        select(LedgerEntry.seq, LedgerEntry.event).where(LedgerEntry.target == record_id)
    )
    for seq, text in rows:
        event = parsed_event(text)
        if event is None or (event.get("type") in CHANGING and event.get("outcome") == "success"):
            own[int(seq)] = text
    return own


def _entries(session: Session, seqs: list[int]) -> dict[int, str]:
    if not seqs:
        return {}
    rows = session.execute(
        select(LedgerEntry.seq, LedgerEntry.event).where(LedgerEntry.seq.in_(seqs))
    )
    return {int(seq): text for seq, text in rows}


def parsed_event(text: str | None) -> dict[str, Any] | None:
    try:
        event = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _check_position(  # noqa: PLR0917 - one position and what is known of it
    session: Session,
    ledger: Ledger,
    links: RecordLinks,
    seq: int,
    text: str | None,
    linked: bool,
) -> list[LedgerFinding]:
    if text is None:
        return [missing_entry(seq)]
    found = check_event(
        session, ledger, links.record_id, seq, text, PLACING if linked else CHANGING
    )
    given = (links.receipt or {}).get("ledger") or {}
    if given.get("seq") == seq and given.get("event") != text:
        found.append(
            at_position(
                seq,
                "ledger_event_differs_from_receipt",
                "事件与回执中给出的不同",
                "the event differs from the one the receipt gave",
            )
        )
    return found


def missing_entry(seq: int) -> LedgerFinding:
    return at_position(
        seq,
        "ledger_entry_missing",
        "档案链接的事件不在数据库中（被删）",
        "the event the record links to is not in the database (deleted)",
    )


def _leaf_findings(session: Session, ledger: Ledger, seq: int, text: str) -> list[LedgerFinding]:
    stored = session.scalar(select(LedgerEntry.leaf_hash).where(LedgerEntry.seq == seq))
    if stored is not None and leaf_hash(ledger.suite.hash, text.encode("utf-8")) == bytes(stored):
        return []
    return [
        at_position(
            seq,
            "ledger_leaf_mismatch",
            "事件文本的摘要与其叶摘要不符（事件被改）",
            "the event text does not hash to its leaf (the event was altered)",
        )
    ]


def _proof_findings(session: Session, ledger: Ledger, seq: int) -> list[LedgerFinding]:
    """An inclusion proof from the entry to the smallest signed checkpoint covering it,
    checked as an outsider would: with the log's public key alone."""
    suite = ledger.suite
    try:
        bundle = ledger.prove(session, seq)
    except DanganError as exc:
        problems = [f"{exc.zh} / {exc.en}"]
    else:
        problems = verify_proof_bundle(
            bundle, suite.public_key(), suite.hash, verifier_for(suite.sign_name), suite.sign_name
        )
    if not problems:
        return []
    return [
        at_position(
            seq,
            "ledger_proof_invalid",
            f"包含证明未通过日志公钥下的签名检查点验证：{'; '.join(problems)}",
            f"its inclusion proof does not verify to a checkpoint signed with the log's key: "
            f"{'; '.join(problems)}",
        )
    ]


def _queued_signatures(session: Session) -> set[str]:
    """Package signatures of events committed but not yet sequenced (a version just added)."""
    found = set()
    for text in session.scalars(select(LedgerPending.event)):
        event = parsed_event(text)
        signature = signed_version(event) if event else None
        if signature:
            found.add(signature)
    return found
