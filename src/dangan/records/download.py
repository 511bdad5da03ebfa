"""Downloading a record's file, verified on the way out.

Files under `SMALL_FILE` bytes are read whole from the first replica whose digests match the
catalogue (a failing replica is skipped and recorded as `integrity.replica_failed`); if none
does, `content_digest_mismatch`. Larger files are streamed from the first replica of the
right size while SM3 and SHA-256 are computed; the last chunk is held back until both match,
so a file that turns out corrupt at the end never reaches the client whole: the response is
cut short of its Content-Length, the failure logged and recorded. The `record.downloaded`
event of a stream is committed before the first byte is sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from sqlalchemy import select

from dangan.core.errors import DanganError, IntegrityFailure, NotFoundError
from dangan.policy.domain import DOWNLOAD, READ_CONTENT
from dangan.records.lookup import open_record, recorded_failure
from dangan.records.models import RecordFile
from dangan.records.ports import RecordsDeps
from dangan.records.staging import logical_path
from dangan.storage.ocfl import OcflStorageRoot
from dangan.usecase import Actor, UnitOfWork, use_case

log = logging.getLogger("dangan.records")
MiB = 1024 * 1024
SMALL_FILE = 32 * MiB  # read whole and verified before sending; larger files are streamed
CHUNK = MiB
DOWNLOADED = "record.downloaded"
REPLICA_FAILED = "integrity.replica_failed"

Failed = Callable[[OcflStorageRoot, str], None]


@dataclass
class Download:
    """A verified file: `data` for small files, else `chunks` (verified while streaming)."""

    name: str
    mime: str
    size: int
    sm3: str
    data: bytes | None = None
    chunks: Iterator[bytes] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Expected:
    """The catalogue's facts of a file, copied out of the session before it closes."""

    record_id: str
    name: str
    size: int
    sm3: str
    sha256: str

    @classmethod
    def of(cls, f: RecordFile) -> _Expected:
        return cls(f.record_id, f.name, f.size, f.sm3, f.sha256)

    def matches(self, data: bytes) -> bool:
        return (
            len(data) == self.size
            and _sm3(data) == self.sm3
            and hashlib.sha256(data).hexdigest() == self.sha256
        )


def _sm3(data: bytes = b"") -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def _digest_mismatch(name: str) -> IntegrityFailure:
    return IntegrityFailure(
        code="content_digest_mismatch",
        zh=f"文件 {name} 在所有存储副本上均无法通过摘要校验，已记录",
        en=f"file {name!r} fails its digest check on every replica; this was logged",
    )


def _file_not_found(name: str) -> NotFoundError:
    return NotFoundError(
        code="file_not_found",
        zh=f"档案中没有文件：{name}",
        en=f"the record has no file {name!r}",
    )


@use_case(DOWNLOADED, REPLICA_FAILED)
def download(deps: RecordsDeps, actor: Actor, ref: str, file_name: str) -> Download:
    """A file of the record, verified against the catalogue's SM3 and SHA-256."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, DOWNLOADED, READ_CONTENT, DOWNLOAD)
        with recorded_failure(uow, DOWNLOADED, rec, ref):
            f = uow.session.scalar(
                select(RecordFile).where(
                    RecordFile.record_id == rec.id, RecordFile.name == file_name
                )
            )
            if f is None:
                raise _file_not_found(file_name)
            expected = _Expected.of(f)

            def failed(root: OcflStorageRoot, why: str) -> None:
                _replica_failed(uow, root, expected, why)

            out = Download(name=f.name, mime=f.mime, size=f.size, sm3=f.sm3)
            if f.size < SMALL_FILE:
                out.data = _read_verified(deps.roots, expected, failed)
            else:
                out.chunks = _open_stream(deps, actor, expected, failed)
        uow.record(DOWNLOADED, target=rec.id, file=f.name, sm3=f.sm3, size=f.size)
        return out


def _replica_failed(uow: UnitOfWork, root: OcflStorageRoot, f: _Expected, why: str) -> None:
    """A replica that failed its check: logged, and recorded with the download's unit of work."""
    log.error("replica %s: %s of record %s: %s", root.store.name, f.name, f.record_id, why)
    uow.record(
        REPLICA_FAILED,
        target=f.record_id,
        outcome="failure",
        root=root.store.name,
        file=f.name,
        problem=why,
    )


def _read_verified(roots: list[OcflStorageRoot], f: _Expected, failed: Failed) -> bytes:
    for root in roots:
        try:
            data = root.read_file(f.record_id, logical_path(f.name))  # checks the OCFL digest
        except DanganError as exc:
            failed(root, exc.code)
            continue
        if f.matches(data):
            return data
        failed(root, "catalogue_digest_mismatch")
    raise _digest_mismatch(f.name)


def _open_stream(deps: RecordsDeps, actor: Actor, f: _Expected, failed: Failed) -> Iterator[bytes]:
    """Pick the first replica holding the file at its recorded size; stream it verified."""
    for root in deps.roots:
        try:
            key = root.content_key(f.record_id, logical_path(f.name))
            if root.store.size(key) == f.size:
                return _verified_chunks(deps, actor, root, key, f)
            failed(root, "size_mismatch")
        except DanganError as exc:
            failed(root, exc.code)
    raise _digest_mismatch(f.name)


def _verified_chunks(
    deps: RecordsDeps, actor: Actor, root: OcflStorageRoot, key: str, f: _Expected
) -> Iterator[bytes]:
    h_sm3, h_sha, seen = hashes.Hash(hashes.SM3()), hashlib.sha256(), 0
    held: bytes | None = None
    with root.store.open(key) as fh:
        while chunk := fh.read(CHUNK):
            h_sm3.update(chunk)
            h_sha.update(chunk)
            seen += len(chunk)
            if held is not None:
                yield held
            held = chunk
    if seen != f.size or h_sm3.finalize().hex() != f.sm3 or h_sha.hexdigest() != f.sha256:
        # The last chunk is withheld: the client gets a response cut short, never bad bytes
        # presented as whole.
        with UnitOfWork(deps, actor) as uow:
            _replica_failed(uow, root, f, "stream_digest_mismatch")
        raise _digest_mismatch(f.name)
    if held is not None:
        yield held
