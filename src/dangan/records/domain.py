"""Pure rules of the archive: submissions, identities, package metadata and receipts.

No database, storage or web imports here; services.py wires these to the adapters.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dangan.core.canonical import canonical_json

# Fixed namespace: the record id is derived from (source system, source id), so a retry after
# a crash writes its content to the same OCFL object instead of leaving an orphan behind.
RECORD_NAMESPACE = uuid.UUID("7c1f7d2a-4c3b-5e0f-9a57-0d4e1b6a2c11")

ROLE_MAIN = "main"
ROLE_ATTACHMENT = "attachment"

# The events that place a record (its receipt proves the latest), and those that change it:
# each of these adds one version of the record and carries that version's package signature.
PLACING = ("record.archived", "record.queued")
CHANGING = (*PLACING, "record.edited")


@dataclass(frozen=True)
class IncomingFile:
    """One file of a submission, already on local disk (CLI input or an API upload spool)."""

    path: Path
    name: str  # the name the producer gave; becomes the logical path in the package
    role: str = ROLE_MAIN
    declared_sm3: str | None = None
    declared_sha256: str | None = None


@dataclass(frozen=True)
class Submission:
    source_system: str
    source_id: str
    metadata: dict[str, Any]
    files: list[IncomingFile]
    fonds: str | None = None
    category: str = "WS"


@dataclass(frozen=True)
class FileFacts:
    """What Dangan measured about a received file."""

    name: str
    role: str
    size: int
    sha256: str
    sha512: str
    sm3: str
    mime: str
    format_name: str
    format_version: str | None
    format_information: str
    preferred_format: bool
    readable: bool
    pages: int | None
    text: str
    problems: list[str] = field(default_factory=list)


def record_id_for(source_system: str, source_id: str) -> str:
    return str(uuid.uuid5(RECORD_NAMESPACE, f"{source_system}\x00{source_id}"))


def submission_digest(metadata: dict[str, Any], files: list[FileFacts]) -> str:
    """Fingerprint of what was submitted, to tell a true retry from a conflicting reuse."""
    body = {
        "metadata": metadata,
        "files": [{"name": f.name, "role": f.role, "sha256": f.sha256} for f in files],
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def file_entry(f: FileFacts) -> dict[str, Any]:
    return {
        "name": f.name,
        "role": f.role,
        "size": f.size,
        "sha256": f.sha256,
        "sha512": f.sha512,
        "sm3": f.sm3,
        "mime": f.mime,
        "format_name": f.format_name,
        "format_version": f.format_version,
        "format_information": f.format_information,
        "preferred_format": f.preferred_format,
        "pages": f.pages,
    }


def package_manifest(package: dict[str, Any]) -> bytes:
    """The bytes the system signs: canonical JSON of the whole package description."""
    return canonical_json(package)


# --- a record's own ledger events ----------------------------------------------------------


@dataclass(frozen=True)
class LedgerFinding:
    """What is wrong with one of a record's ledger events; `seq` is its position when known."""

    code: str
    zh: str
    en: str
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "seq": self.seq, "zh": self.zh, "en": self.en}

    def __str__(self) -> str:
        return f"[{self.code}] {self.zh} / {self.en}"


def at_position(seq: int, code: str, zh: str, en: str) -> LedgerFinding:
    return LedgerFinding(code, f"账本位置 {seq}：{zh}", f"ledger position {seq}: {en}", seq)


def event_findings(
    seq: int, text: str, record_id: str, kinds: Collection[str] | None = None
) -> list[LedgerFinding]:
    """The event stored at `seq` is this record's: JSON carrying its own position, naming the
    record, and (with `kinds`) a successful event of one of those types."""
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return [
            at_position(seq, "ledger_event_unreadable", "事件不是 JSON 对象", "not a JSON object")
        ]
    found = []
    if event.get("seq") != seq:
        found.append(
            at_position(
                seq,
                "ledger_event_moved",
                f"事件记载的位置是 {event.get('seq')}",
                f"the event says it is at position {event.get('seq')}",
            )
        )
    if event.get("target") != record_id:
        found.append(
            at_position(
                seq,
                "ledger_event_not_this_record",
                f"事件对象是 {event.get('target')}，不是本档案 {record_id}",
                f"the event is about {event.get('target')}, not this record {record_id}",
            )
        )
    elif kinds is not None and (
        event.get("type") not in kinds or event.get("outcome") != "success"
    ):
        found.append(
            at_position(
                seq,
                "ledger_event_not_this_change",
                f"事件 {event.get('type')}（{event.get('outcome')}）不是本档案的{'/'.join(kinds)}",
                f"the event {event.get('type')} ({event.get('outcome')}) is not one of "
                f"{', '.join(kinds)} of this record",
            )
        )
    return found


def signed_version(event: Mapping[str, Any]) -> str | None:
    """The package signature a changing event carries (the version it added)."""
    details = event.get("details")
    value = details.get("package_signature") if isinstance(details, Mapping) else None
    return value if isinstance(value, str) else None


def match_versions(
    versions: Sequence[tuple[int, str]], events: Mapping[int, Mapping[str, Any]]
) -> tuple[dict[int, int], list[LedgerFinding]]:
    """Each version (number, package signature) with the changing event that added it (by
    the signature it carries): {version: position}, and the events that added no version of
    the record. Versions left out of the mapping have no event among `events`."""
    by_signature = {sig: version for version, sig in versions}
    added: dict[int, int] = {}
    stray = []
    for seq, event in sorted(events.items()):
        version = by_signature.get(signed_version(event) or "")
        if version is None or version in added:
            stray.append(
                at_position(
                    seq,
                    "ledger_event_without_version",
                    f"事件 {event.get('type')} 所载的系统签名不属于本档案的任何版本",
                    f"the package signature of the {event.get('type')} event is no version's "
                    "of this record",
                )
            )
        else:
            added[version] = seq
    return added, stray


def unrecorded_version(version: int) -> LedgerFinding:
    return LedgerFinding(
        "ledger_version_unrecorded",
        f"第 {version} 版在数据库的账本中没有记录它的事件",
        f"version {version} has no event recording it in the database's ledger",
    )


def year_of(year: object, date: object) -> int | None:
    """年度: given, or the year of 日期 at any precision (2019, 2019-05, 2019-05-17); None for
    an undated record."""
    given = year or str(date or "")[:4]
    return int(str(given)) if given else None
