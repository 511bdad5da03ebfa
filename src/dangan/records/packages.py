"""The signed package description of a record version, and adding a version to a record.

A record's description (metadata, files with digests, source, classification, submission
digest, receipt checks) is signed as a whole and kept in the catalogue; after the commit the
outbox writes it into every storage root as metadata.json + metadata.xml + signature.json of
OCFL version N, so `rebuild` needs nothing else. Archiving writes v1, confirming a queued
record and correcting metadata each write the next version — all through `add_version`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dangan.core.canonical import canonical_json
from dangan.crypto.interfaces import CryptoSuite
from dangan.records.domain import package_manifest
from dangan.records.models import OutboxItem, Record, RecordVersion

# After-commit work per version: write the package to every root, then (re)index.
OUTBOX_KINDS = ("package", "index")


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


def sign_package(suite: CryptoSuite, description: dict[str, Any]) -> dict[str, str]:
    manifest = package_manifest(description)
    return {
        "algorithm": suite.sign_name,
        "hash": suite.hash_name,
        "manifest_digest": suite.hash(manifest).hex(),
        "value": suite.sign(manifest).hex(),
        "public_key": suite.public_key().hex(),
    }


def add_version(  # noqa: PLR0917 - what a version is made of
    session: Session,
    suite: CryptoSuite,
    rec: Record,
    description: dict[str, Any],
    at: datetime,
    reason: str,
) -> dict[str, str]:
    """Sign `description` as the record's next version (`description["version"]`), add it,
    and queue its package and index work; returns the signature."""
    version = int(description["version"])
    signature = sign_package(suite, description)
    rec.version = version
    rec.versions.append(
        RecordVersion(
            version=version,
            metadata_json=canonical_json(description).decode(),
            signature_json=json.dumps(signature),
            created_at=at,
            reason=reason,
        )
    )
    for kind in OUTBOX_KINDS:
        session.add(OutboxItem(kind=kind, record_id=rec.id, version=version, created_at=at))
    return signature


def current_description(rec: Record) -> dict[str, Any]:
    """The signed description of the record's latest version."""
    loaded: dict[str, Any] = json.loads(rec.versions[-1].metadata_json)
    return loaded
