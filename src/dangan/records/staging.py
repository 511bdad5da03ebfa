"""A submission's content on every storage root, before its catalogue transaction.

Content goes to the record's OCFL object (its id derives from the source id) under `files/`,
so a retry after a crash overwrites its own staged bytes. A submission whose transaction does
not commit removes what it staged at once (`unstage`); `recover` removes what a crash left.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dangan.records.domain import FileFacts, IncomingFile
from dangan.storage import OcflStorageRoot

FILES_DIR = "files"
log = logging.getLogger("dangan.records")


def logical_path(name: str) -> str:
    """Producer files sit under files/ so they never clash with the package's own files."""
    return f"{FILES_DIR}/{name}"


def stage_content(
    roots: Sequence[OcflStorageRoot],
    record_id: str,
    incoming: Sequence[IncomingFile],
    facts: Sequence[FileFacts],
) -> list[tuple[int, int]]:
    """Write each file to every root; returns (files, bytes) present per root afterwards."""
    counts = []
    for root in roots:
        n = total = 0
        for f, fact in zip(incoming, facts, strict=True):
            with f.path.open("rb") as fh:
                root.stage_content(record_id, 1, logical_path(fact.name), fh)
            key = root.content_key(record_id, logical_path(fact.name), 1)
            n += 1
            total += root.store.size(key)
        counts.append((n, total))
    return counts


def unstage(roots: Sequence[OcflStorageRoot], record_id: str) -> list[str]:
    """Remove the record's staged, never sealed content from every root; the roots where that
    failed (logged: `recover` removes it later). Only for a record the catalogue did not
    commit, under its source lock: sealed versions are never touched."""
    failed = []
    for root in roots:
        try:
            root.discard_incomplete(record_id)
        except Exception as exc:  # best effort: the submission's own failure is what counts
            log.warning(
                "staged content of %s left on %s until recover: %s", record_id, root.store.name, exc
            )
            failed.append(root.store.name)
    return failed
