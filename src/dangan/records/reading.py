"""Reading records as a signed-in person: browse, describe, download, correct, history, proof,
and search — every access decided by `access.policy` and written to the ledger.

Each use case takes the acting person first, decides with the policy, and appends its ledger
event (who, when, from where, on what, outcome) in the same transaction as what it reads;
refusals are recorded too, with outcome "denied".

A record the person may not see is indistinguishable from one that does not exist: both are
looked up through the same visibility-filtered query (never get-then-check) and both answer
`record_not_found`. Beyond reading the description of a visible record (download, edit…),
a refusal carries the policy's own reason code (`AccessDenied`).

Downloads are verified on the way out. Files under `SMALL_FILE` bytes are read whole from the
first replica whose digests match the catalogue (a failing replica is skipped and recorded as
`integrity.replica_failed`); if none does, `content_digest_mismatch`. Larger files are
streamed from the first replica of the right size while SM3 and SHA-256 are computed; the
last chunk is held back until both match, so a file that turns out corrupt at the end never
reaches the client whole: the response is aborted short of its Content-Length, the failure
is logged and recorded. The `record.downloaded` event of a stream is committed before the
first byte is sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives import hashes
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from dangan.access.models import RecordAccess
from dangan.access.services import AccessDenied, visible_records_clause
from dangan.bootstrap import Container
from dangan.core.clock import utcnow
from dangan.core.errors import DanganError, IntegrityFailure, NotFoundError
from dangan.ledger.events import audit_event
from dangan.ledger.models import LedgerEntry
from dangan.policy.decision import REASONS, RecordAccessAttrs, Subject, decide
from dangan.policy.domain import DOWNLOAD, EDIT, READ_CONTENT, READ_METADATA, SEPARATED_ROLES
from dangan.records.editing import edit_metadata
from dangan.records.models import Record, RecordFile
from dangan.records.packaging import logical_path
from dangan.records.queries import details_of, history_of
from dangan.search.services import checked_query, search_in
from dangan.storage.ocfl import OcflStorageRoot

log = logging.getLogger("dangan.records")
T = TypeVar("T")
S = TypeVar("S", bound=Select[*tuple[Any, ...]])

MiB = 1024 * 1024
SMALL_FILE = 32 * MiB  # read whole and verified before sending; larger files are streamed
CHUNK = MiB
MAX_PAGE_SIZE = 100
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


class Acting(Protocol):
    """The acting person (`web.identity.Person` fits): the policy subject and where from."""

    @property
    def username(self) -> str: ...
    @property
    def subject(self) -> Subject: ...
    @property
    def ip(self) -> str: ...
    @property
    def user_agent(self) -> str: ...


@dataclass(frozen=True)
class SystemActing:
    """A business system reading the catalogue with a read_catalogue token."""

    system: str
    ip: str = ""
    user_agent: str = ""


@dataclass
class Download:
    """A verified file: `data` for small files, else `chunks` (verified while streaming)."""

    name: str
    mime: str
    size: int
    sm3: str
    data: bytes | None = None
    chunks: Iterator[bytes] | None = field(default=None, repr=False)


# --- errors and events -----------------------------------------------------------------------


def record_not_found(ref: str) -> NotFoundError:
    # Same text as records.services.get_record: missing and invisible look alike.
    return NotFoundError(
        code="record_not_found", zh=f"找不到档案：{ref}", en=f"no such record: {ref}"
    )


def _denied(reason: str) -> AccessDenied:
    zh, en = REASONS[reason]
    return AccessDenied(code=reason, zh=zh, en=en)


def _digest_mismatch(name: str) -> IntegrityFailure:
    return IntegrityFailure(
        code="content_digest_mismatch",
        zh=f"文件 {name} 在所有存储副本上均无法通过摘要校验，已记录",
        en=f"file {name!r} fails its digest check on every replica; this was logged",
    )


def _sm3() -> hashes.Hash:
    return hashes.Hash(hashes.SM3())


def _append(  # noqa: PLR0917 - the event's fields, in order
    c: Container,
    s: Session,
    actor: str,
    where: tuple[str, str],
    type_: str,
    outcome: str,
    at: datetime,
    target: str | None = None,
    **details: Any,
) -> None:
    context = {**details, "ip": where[0], "user_agent": where[1]}
    c.ledger.append(s, audit_event(type_, actor, at, outcome, target, context))


def _where(who: Acting | SystemActing) -> tuple[str, str]:
    return who.ip, who.user_agent


# --- looking records up through the policy ------------------------------------------------


def _separated(subject: Subject) -> bool:
    """三员 never reach records; refused before any record is looked at."""
    return bool(subject.roles & SEPARATED_ROLES)


def _visible(subject: Subject, at: datetime) -> ColumnElement[bool]:
    return visible_records_clause(subject, at, READ_METADATA)


def _lookup(
    s: Session, subject: Subject, ref: str, at: datetime
) -> tuple[Record, RecordAccessAttrs] | None:
    """The record by id or 档号, only if visible: one query, the same for missing records."""
    row = s.execute(
        select(Record, RecordAccess)
        .join(RecordAccess, RecordAccess.record_id == Record.id)
        .where(or_(Record.id == ref, Record.archival_code == ref), _visible(subject, at))
        .limit(1)
    ).first()
    if row is None:
        return None
    rec, acc = row
    return rec, RecordAccessAttrs(
        record_id=rec.id,
        classification=acc.security_classification,
        openness=acc.openness,
        owner_department_id=acc.owner_department_id,
    )


# A use case's work on a visible, permitted record: its result and the details of its
# success event (None: the work writes its own event).
Done = tuple[T, dict[str, Any] | None]
Body = Callable[[Session, Record, datetime], Done[T]]


def _on_record(  # noqa: PLR0917 - what every record use case shares
    c: Container,
    person: Acting,
    ref: str,
    type_: str,
    actions: tuple[str, ...],
    body: Body[T],
) -> T:
    """Look up, decide each action, run `body`, record the outcome; all in one transaction.

    An error is raised only after the transaction that recorded it has committed.
    """
    at = utcnow()
    subject = person.subject
    where = _where(person)
    error: DanganError
    with c.sessions.begin() as s:
        found = None if _separated(subject) else _lookup(s, subject, ref, at)
        if _separated(subject):
            error = _denied("separation_of_duties")
        elif found is None:
            error = record_not_found(ref)
        else:
            rec, attrs = found
            refusal = next(
                (d for d in (decide(subject, a, attrs, at) for a in actions) if not d.allowed),
                None,
            )
            if refusal is not None:
                error = AccessDenied(code=refusal.reason, zh=refusal.zh, en=refusal.en)
                _append(
                    c,
                    s,
                    person.username,
                    where,
                    type_,
                    "denied",
                    at,
                    rec.id,
                    reason=error.code,
                    ref=ref,
                )
            else:
                try:
                    result, details = body(s, rec, at)
                except DanganError as exc:
                    error = exc
                    _append(
                        c,
                        s,
                        person.username,
                        where,
                        type_,
                        "failure",
                        at,
                        rec.id,
                        reason=exc.code,
                        ref=ref,
                    )
                else:
                    if details is not None:
                        _append(
                            c, s, person.username, where, type_, "success", at, rec.id, **details
                        )
                    return result
        if found is None:
            # No target: the ledger must not tell an invisible record from a missing one.
            _append(
                c, s, person.username, where, type_, "denied", at, None, reason=error.code, ref=ref
            )
    raise error


# --- browse --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowseFilters:
    fonds: str | None = None
    year: int | None = None
    retention: str | None = None
    org: str | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.fonds is not None:
            conds.append(Record.fonds_code == self.fonds)
        if self.year is not None:
            conds.append(Record.year == self.year)
        if self.retention is not None:
            conds.append(Record.retention == self.retention)
        if self.org is not None:
            conds.append(Record.org_code == self.org)
        if self.status is not None:
            conds.append(Record.status == self.status)
        return conds

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _joined(stmt: S) -> S:
    return stmt.select_from(Record).join(RecordAccess, RecordAccess.record_id == Record.id)


def browse(
    c: Container,
    person: Acting,
    *,
    fonds: str | None = None,
    year: int | None = None,
    retention: str | None = None,
    org: str | None = None,
    status: str | None = None,
    page: int = 1,
    size: int = 20,
) -> dict[str, Any]:
    """One page of the records the person may see, with the total and facet counts.

    Items, total and facets all come from SQL under the same visibility clause, so no count
    includes a record the person may not see.
    """
    at = utcnow()
    filters = BrowseFilters(fonds, year, retention, org, status)
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    where = _where(person)
    asked = {**filters.as_dict(), "page": page, "size": size}
    with c.sessions.begin() as s:
        if _separated(person.subject):
            error = _denied("separation_of_duties")
            _append(
                c,
                s,
                person.username,
                where,
                "record.browse",
                "denied",
                at,
                reason=error.code,
                **asked,
            )
        else:
            conds = [_visible(person.subject, at), *filters.conditions()]
            total = s.scalar(_joined(select(func.count())).where(*conds)) or 0
            rows = s.execute(
                _joined(
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
            facets = {
                name: [
                    {"value": value, "count": n}
                    for value, n in s.execute(
                        _joined(select(col, func.count()))
                        .where(*conds)
                        .group_by(col)
                        .order_by(col.is_(None), col)
                    )
                ]
                for name, col in (
                    ("year", Record.year),
                    ("retention", Record.retention),
                    ("org", Record.org_code),
                )
            }
            _append(
                c, s, person.username, where, "record.browse", "success", at, total=total, **asked
            )
            return {
                "total": total,
                "page": page,
                "size": size,
                "items": [
                    {
                        "record_id": r.id,
                        "archival_code": r.archival_code,
                        "title": r.title,
                        "date": r.doc_date,
                        "author": r.author,
                        "security_classification": r.security_classification,
                    }
                    for r in rows
                ],
                "facets": facets,
            }
    raise error


# --- one record ------------------------------------------------------------------------------


def get_metadata(c: Container, person: Acting, ref: str) -> dict[str, Any]:
    def body(s: Session, rec: Record, _at: datetime) -> Done[dict[str, Any]]:
        return details_of(s, rec), {"version": rec.version}

    return _on_record(c, person, ref, "record.viewed", (READ_METADATA,), body)


def _own_events(history: dict[str, Any]) -> dict[str, Any]:
    history["events"] = [e for e in history["events"] if e.get("outcome") != "denied"]
    return history


def history(c: Container, person: Acting, ref: str) -> dict[str, Any]:
    """Versions and the record's own ledger events (its lifecycle, not who looked at it)."""

    def body(s: Session, rec: Record, _at: datetime) -> Done[dict[str, Any]]:
        return _own_events(history_of(s, rec, ACCESS_EVENTS)), {}

    return _on_record(c, person, ref, "record.history_viewed", (READ_METADATA,), body)


def _entry_not_found(seq: int) -> NotFoundError:
    return NotFoundError(
        code="ledger_entry_not_found",
        zh=f"该档案没有序号为 {seq} 的审计事件",
        en=f"the record has no audit event {seq}",
    )


def proof(c: Container, person: Acting, ref: str, seq: int) -> dict[str, Any]:
    """The inclusion proof bundle of one of the record's own events (as `history` lists)."""

    def body(s: Session, rec: Record, _at: datetime) -> Done[dict[str, Any]]:
        text = s.scalar(
            select(LedgerEntry.event).where(LedgerEntry.seq == seq, LedgerEntry.target == rec.id)
        )
        if text is None:
            raise _entry_not_found(seq)
        event = json.loads(text)
        if event.get("type") in ACCESS_EVENTS or event.get("outcome") == "denied":
            raise _entry_not_found(seq)
        return c.ledger.prove(s, seq), {"seq": seq}

    return _on_record(c, person, ref, "record.proof_viewed", (READ_METADATA,), body)


def edit(
    c: Container, person: Acting, ref: str, changes: dict[str, Any], reason: str
) -> dict[str, Any]:
    """Correct the record's metadata as a new version (archivists; see the policy).

    The decision is taken and any refusal recorded here; the correction and its
    `record.edited` event are committed together by `editing.edit_metadata`.
    """

    def body(_s: Session, rec: Record, _at: datetime) -> Done[str]:
        return rec.id, None

    record_id = _on_record(c, person, ref, "record.edited", (EDIT,), body)

    def still_allowed(s: Session, rid: str) -> None:
        # Re-decided inside the edit's transaction, before and after the change.
        row = s.get(RecordAccess, rid)
        attrs = (
            RecordAccessAttrs(
                rid, row.security_classification, row.openness, row.owner_department_id
            )
            if row is not None
            else None
        )
        decision = decide(person.subject, EDIT, attrs)
        if not decision.allowed:
            raise AccessDenied(code=decision.reason, zh=decision.zh, en=decision.en)

    try:
        return edit_metadata(
            c,
            person.username,
            record_id,
            changes,
            reason,
            context={"ip": person.ip, "user_agent": person.user_agent},
            authorize=still_allowed,
        )
    except AccessDenied as exc:  # the edit rolled back whole; the refusal is still recorded
        with c.sessions.begin() as s:
            _append(
                c,
                s,
                person.username,
                _where(person),
                "record.edited",
                "denied",
                utcnow(),
                record_id,
                reason=exc.code,
                ref=ref,
                changes=sorted(changes),
            )
        raise


# --- download --------------------------------------------------------------------------------


def download(c: Container, person: Acting, ref: str, file_name: str) -> Download:
    """A file of the record, verified against the catalogue's SM3 and SHA-256."""

    def body(s: Session, rec: Record, at: datetime) -> Done[Download]:
        f = s.scalar(
            select(RecordFile).where(RecordFile.record_id == rec.id, RecordFile.name == file_name)
        )
        if f is None:
            raise NotFoundError(
                code="file_not_found",
                zh=f"档案中没有文件：{file_name}",
                en=f"the record has no file {file_name!r}",
            )

        def failed(root: OcflStorageRoot, why: str) -> None:
            log.error("replica %s: %s of record %s: %s", root.store.name, f.name, rec.id, why)
            _append(
                c,
                s,
                person.username,
                _where(person),
                "integrity.replica_failed",
                "failure",
                at,
                rec.id,
                root=root.store.name,
                file=f.name,
                problem=why,
            )

        out = Download(name=f.name, mime=f.mime, size=f.size, sm3=f.sm3)
        if f.size < SMALL_FILE:
            out.data = _read_verified(c, rec.id, f, failed)
        else:
            out.chunks = _open_stream(c, person, rec.id, f, failed)
        return out, {"file": f.name, "sm3": f.sm3, "size": f.size}

    return _on_record(c, person, ref, "record.downloaded", (READ_CONTENT, DOWNLOAD), body)


def _matches(data: bytes, f: RecordFile) -> bool:
    h = _sm3()
    h.update(data)
    return (
        len(data) == f.size
        and h.finalize().hex() == f.sm3
        and hashlib.sha256(data).hexdigest() == f.sha256
    )


def _read_verified(
    c: Container, record_id: str, f: RecordFile, failed: Callable[[OcflStorageRoot, str], None]
) -> bytes:
    for root in c.roots:
        try:
            data = root.read_file(record_id, logical_path(f.name))  # checks the OCFL digest
        except DanganError as exc:
            failed(root, exc.code)
            continue
        if _matches(data, f):
            return data
        failed(root, "catalogue_digest_mismatch")
    raise _digest_mismatch(f.name)


def _open_stream(
    c: Container,
    person: Acting,
    record_id: str,
    f: RecordFile,
    failed: Callable[[OcflStorageRoot, str], None],
) -> Iterator[bytes]:
    """Pick the first replica holding the file at its recorded size; stream it verified."""
    for root in c.roots:
        try:
            key = root.content_key(record_id, logical_path(f.name))
            if root.store.size(key) == f.size:
                facts = _Expected(f.name, f.size, f.sm3, f.sha256)
                return _verified_chunks(c, person, root, key, record_id, facts)
            failed(root, "size_mismatch")
        except DanganError as exc:
            failed(root, exc.code)
    raise _digest_mismatch(f.name)


@dataclass(frozen=True)
class _Expected:
    """The catalogue's facts of a file, copied out of the session before it closes."""

    name: str
    size: int
    sm3: str
    sha256: str


def _verified_chunks(  # noqa: PLR0917 - what the stream needs after the commit
    c: Container,
    person: Acting,
    root: OcflStorageRoot,
    key: str,
    record_id: str,
    f: _Expected,
) -> Iterator[bytes]:
    name, size, sm3, sha256 = f.name, f.size, f.sm3, f.sha256
    h_sm3, h_sha, seen = _sm3(), hashlib.sha256(), 0
    held: bytes | None = None
    with root.store.open(key) as fh:
        while chunk := fh.read(CHUNK):
            h_sm3.update(chunk)
            h_sha.update(chunk)
            seen += len(chunk)
            if held is not None:
                yield held
            held = chunk
    if seen != size or h_sm3.finalize().hex() != sm3 or h_sha.hexdigest() != sha256:
        # The last chunk is withheld: the client gets a response cut short, never bad bytes
        # presented as whole.
        log.error(
            "replica %s: %s of record %s failed while streaming", root.store.name, name, record_id
        )
        with c.sessions.begin() as s:
            _append(
                c,
                s,
                person.username,
                _where(person),
                "integrity.replica_failed",
                "failure",
                utcnow(),
                record_id,
                root=root.store.name,
                file=name,
                problem="stream_digest_mismatch",
            )
        raise _digest_mismatch(name)
    if held is not None:
        yield held


# --- search ----------------------------------------------------------------------------------


def _search(  # noqa: PLR0917
    c: Container,
    actor: str,
    who: Acting | SystemActing,
    q: str,
    limit: int,
    offset: int,
    within: Callable[[datetime], Select[str]] | None,
) -> dict[str, Any]:
    query = checked_query(q)
    at = utcnow()
    where = _where(who)
    with c.sessions.begin() as s:
        if within is None:
            error = _denied("separation_of_duties")
            _append(
                c, s, actor, where, "search.query", "denied", at, None, reason=error.code, q=query
            )
        else:
            found = search_in(c, s, query, limit, offset, within(at))
            _append(
                c,
                s,
                actor,
                where,
                "search.query",
                "success",
                at,
                None,
                q=query,
                total=found["total"],
                limit=limit,
                offset=offset,
            )
            return {
                "query": query,
                "total": found["total"],
                "hits": [
                    {k: h[k] for k in ("record_id", "archival_code", "title", "date", "snippet")}
                    for h in found["hits"]
                ],
            }
    raise error


def search(
    c: Container, person: Acting, q: str, limit: int = 20, offset: int = 0
) -> dict[str, Any]:
    """Full-text search over the records the person may see, filtered inside the query."""
    subject = person.subject

    def within(at: datetime) -> Select[str]:
        return _joined(select(Record.id)).where(_visible(subject, at))

    chosen = None if _separated(subject) else within
    return _search(c, person.username, person, q, limit, offset, chosen)


def search_as_system(
    c: Container, caller: SystemActing, q: str, limit: int = 20, offset: int = 0
) -> dict[str, Any]:
    """A business system searches only the records it submitted itself."""

    def within(_at: datetime) -> Select[str]:
        return select(Record.id).where(Record.source_system == caller.system)

    return _search(c, f"system:{caller.system}", caller, q, limit, offset, within)
