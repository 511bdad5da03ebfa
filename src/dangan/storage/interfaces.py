"""The blob-store port: where preservation packages' bytes live.

Keys are '/'-separated relative paths made of safe segments; an implementation must refuse
'', '.', '..', absolute paths, back-slashes and NUL (see `domain.check_key`). Writes are
durable when they return (data and directory entry fsynced on local disk).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol


class BlobStore(Protocol):
    """One storage root."""

    name: str

    def put(self, key: str, data: bytes) -> None:
        """Write `data` at `key` atomically (replacing any old value), durably."""
        ...

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        """`put` each (key, data) durably, becoming visible in the given order."""
        ...

    def put_file(self, key: str, source: BinaryIO) -> int:
        """Stream `source` to `key` atomically and durably; returns bytes written."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes at `key`; raises `NotFoundError` (code `blob_not_found`) if absent."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A binary reader for `key`; raises `NotFoundError` (code `blob_not_found`) if absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key under `prefix` (recursively), in no particular order."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key` if present (used for staging and repair, never for archived content)."""
        ...
