"""Pure rules of the archive: submissions, identities, package metadata and receipts.

No database, storage or web imports here; services.py wires these to the adapters.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dangan.core.canonical import canonical_json

# Fixed namespace: the record id is derived from (source system, source id), so a retry after
# a crash writes its content to the same OCFL object instead of leaving an orphan behind.
RECORD_NAMESPACE = uuid.UUID("7c1f7d2a-4c3b-5e0f-9a57-0d4e1b6a2c11")

ROLE_MAIN = "main"
ROLE_ATTACHMENT = "attachment"


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
