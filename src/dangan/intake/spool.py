"""Streaming request bodies to disk under `data_dir/spool`, with limits checked as bytes arrive.

Nothing is held in memory beyond one chunk and the small form fields (the metadata JSON), so
a 2 GiB upload costs 2 GiB of disk and no more RAM than a small one. A limit is enforced the
moment it is crossed: the rest of the body is not read and the partial spool is deleted.
Files are written under fixed names (`0000`, `0001`, …): the client's file name is only data,
checked later by the archive's own path rules, and never touches the file system here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from dangan.core.errors import MalformedInputError, TooLargeError

METADATA_FIELD = "metadata"
STALE_SPOOL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class SpoolLimits:
    max_file_bytes: int
    max_total_bytes: int
    max_field_bytes: int = 1024 * 1024
    max_parts: int = 1000


@dataclass
class SpooledFile:
    name: str  # as the client sent it (may be unsafe: checked downstream)
    path: Path
    size: int
    sha256: str


@dataclass
class Spooled:
    """One request body on disk: its form fields, its files and where they are."""

    directory: Path
    fields: dict[str, bytes] = field(default_factory=dict)
    files: list[SpooledFile] = field(default_factory=list)
    total: int = 0

    def digest(self) -> str:
        """Identity of the request body, for Idempotency-Key comparison."""
        body = {
            "fields": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(self.fields.items())},
            "files": [[f.name, f.sha256] for f in self.files],
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def too_large(zh_what: str, en_what: str, limit: int) -> TooLargeError:
    return TooLargeError(
        code="payload_too_large",
        zh=f"{zh_what}超过上限 {limit} 字节",
        en=f"{en_what} exceeds the limit of {limit} bytes",
    )


def malformed(code: str, zh: str, en: str) -> MalformedInputError:
    return MalformedInputError(code=code, zh=zh, en=en)


def new_spool(root: Path) -> Spooled:
    directory = root / uuid.uuid4().hex
    directory.mkdir(parents=True)
    return Spooled(directory)


class _MultipartSink:
    """python-multipart callbacks that route each part to a file or a bounded buffer."""

    def __init__(self, spool: Spooled, limits: SpoolLimits) -> None:
        self.spool = spool
        self.limits = limits
        self.ended = False
        self._header_field = b""
        self._headers: dict[str, bytes] = {}
        self._name = ""
        self._filename: str | None = None
        self._buffer: bytearray | None = None
        self._fh: IO[bytes] | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self._parts = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self._parts += 1
        if self._parts > self.limits.max_parts:
            raise malformed("too_many_parts", "表单部分过多", "too many multipart parts")
        self._headers, self._header_field, self._size = {}, b"", 0
        self._hash = hashlib.sha256()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        key = self._header_field.decode("latin-1").lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]

    def header_end(self) -> None:
        self._header_field = b""

    def headers_finished(self) -> None:
        raw = self._headers.get("content-disposition", b"")
        try:
            # latin-1 round-trips the raw bytes; the values are then read as UTF-8 (RFC 7578)
            _, options = parse_options_header(raw.decode("latin-1"))
            self._name = options.get(b"name", b"").decode("utf-8")
            fname = options.get(b"filename")
            self._filename = fname.decode("utf-8") if fname is not None else None
        except UnicodeDecodeError as exc:
            raise malformed(
                "bad_part_header", "表单部分头不是 UTF-8", "a part header is not UTF-8"
            ) from exc
        if not self._name:
            raise malformed("bad_part_header", "表单部分缺少 name", "a part has no name")
        if self._filename is not None and self._name != METADATA_FIELD:
            index = len(self.spool.files)
            self._fh = (self.spool.directory / f"{index:04d}").open("wb")
            self._buffer = None
        else:
            self._buffer = bytearray()

    def part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        self._size += len(chunk)
        self.spool.total += len(chunk)
        if self.spool.total > self.limits.max_total_bytes:
            raise too_large("请求体", "the request body", self.limits.max_total_bytes)
        if self._fh is not None:
            if self._size > self.limits.max_file_bytes:
                name = self._filename or "?"
                raise too_large(f"文件 {name} ", f"file {name}", self.limits.max_file_bytes)
            self._hash.update(chunk)
            self._fh.write(chunk)  # small sync write per chunk: simpler than a thread hop
        elif self._buffer is not None:
            if self._size > self.limits.max_field_bytes:
                raise too_large("表单字段", "a form field", self.limits.max_field_bytes)
            self._buffer += chunk

    def part_end(self) -> None:
        if self._fh is not None:
            self._fh.close()
            index = len(self.spool.files)
            self.spool.files.append(
                SpooledFile(
                    name=self._filename or "",
                    path=self.spool.directory / f"{index:04d}",
                    size=self._size,
                    sha256=self._hash.hexdigest(),
                )
            )
            self._fh = None
        elif self._buffer is not None:
            if self._name in self.spool.fields:
                raise malformed(
                    "duplicate_field",
                    f"表单字段重复：{self._name}",
                    f"duplicate form field: {self._name}",
                )
            self.spool.fields[self._name] = bytes(self._buffer)
            self._buffer = None

    def end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def boundary_of(content_type: str) -> bytes:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise malformed(
            "multipart_no_boundary",
            "multipart/form-data 缺少 boundary",
            "multipart/form-data without a boundary",
        )
    return boundary


async def spool_multipart(
    chunks: AsyncIterator[bytes], content_type: str, root: Path, limits: SpoolLimits
) -> Spooled:
    """Parse a multipart/form-data body into a new spool directory (deleted on any error)."""
    boundary = boundary_of(content_type)
    spool = new_spool(root)
    sink = _MultipartSink(spool, limits)
    try:
        parser = MultipartParser(boundary, sink.callbacks())  # type: ignore[arg-type]
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if not sink.ended:
            raise malformed(
                "multipart_truncated",
                "multipart 请求体不完整（被截断）",
                "the multipart body is incomplete (truncated)",
            )
        return spool
    except MultipartParseError as exc:
        spool.cleanup()
        raise malformed(
            "multipart_malformed", "multipart 请求体格式有误", "the multipart body is malformed"
        ) from exc
    except BaseException:
        sink.close()
        spool.cleanup()
        raise


async def spool_body(
    chunks: AsyncIterator[bytes], root: Path, limits: SpoolLimits, name: str
) -> Spooled:
    """A whole non-multipart body (an EEP XML or a BagIt zip) as one spooled file."""
    spool = new_spool(root)
    path = spool.directory / "0000"
    digest = hashlib.sha256()
    size = 0
    limit = min(limits.max_file_bytes, limits.max_total_bytes)
    try:
        with path.open("wb") as fh:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large("请求体", "the request body", limit)
                digest.update(chunk)
                fh.write(chunk)
    except BaseException:
        spool.cleanup()
        raise
    spool.total = size
    spool.files.append(SpooledFile(name, path, size, digest.hexdigest()))
    return spool


def sweep_stale(root: Path) -> None:
    """Remove spools a crashed process left; only old ones, as other workers share the dir."""
    if not root.exists():
        return
    cutoff = time.time() - STALE_SPOOL_SECONDS
    for d in root.iterdir():
        if d.is_dir() and d.stat().st_mtime < cutoff:
            shutil.rmtree(d, ignore_errors=True)
