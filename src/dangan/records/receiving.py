"""Receiving a submission's files: size limits, digests, format, text — before anything is written.

Every check here only reads. Problems are collected across all files so the producer sees
them all at once; the caller raises if any were found and then nothing has been written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from dangan.content import extract_text, format_information, identify
from dangan.core.errors import DanganError, InvalidInputError, Problem
from dangan.records.domain import FileFacts, IncomingFile
from dangan.storage.domain import safe_logical_path

CHUNK = 1024 * 1024
# Containers (DOCX, OFD) need their central directory; files this small are read whole.
WHOLE_READ_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Digests:
    size: int
    sha256: str
    sha512: str
    sm3: str
    head: bytes


def digest_file(path: Path) -> Digests:
    """SM3, SHA-256 and SHA-512 in one pass (SHA-512 keys the OCFL manifest)."""
    sm3 = hashes.Hash(hashes.SM3())
    sha256 = hashlib.sha256()
    sha512 = hashlib.sha512()
    size = 0
    head = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if size < WHOLE_READ_LIMIT:
                head += chunk[: WHOLE_READ_LIMIT - size]
            size += len(chunk)
            sm3.update(chunk)
            sha256.update(chunk)
            sha512.update(chunk)
    return Digests(size, sha256.hexdigest(), sha512.hexdigest(), sm3.finalize().hex(), head)


def _p(field: str, code: str, zh: str, en: str) -> Problem:
    return Problem(field, code, zh, en)


def check_file_list(files: list[IncomingFile], max_files: int) -> list[Problem]:
    problems: list[Problem] = []
    if not files:
        problems.append(_p("files", "no_files", "未提交任何文件", "no file was submitted"))
    if len(files) > max_files:
        problems.append(
            _p(
                "files",
                "too_many_files",
                f"文件数 {len(files)} 超过上限 {max_files}",
                f"{len(files)} files exceed the limit of {max_files}",
            )
        )
    seen: set[str] = set()
    for i, f in enumerate(files):
        field = f"files[{i}].name"
        try:
            name = safe_logical_path(f.name)
        except DanganError as exc:
            problems.extend(
                _p(field, p.code, p.zh, p.en) for p in (exc.problems or [_as_problem(exc)])
            )
            continue
        if name in seen:
            problems.append(
                _p(field, "duplicate_name", f"文件名重复：{name}", f"duplicate file name: {name}")
            )
        seen.add(name)
    return problems


def _as_problem(exc: DanganError) -> Problem:
    return Problem("files", exc.code, exc.zh, exc.en)


def measure_file(i: int, f: IncomingFile, max_bytes: int) -> tuple[FileFacts | None, list[Problem]]:
    """Measure one file; returns (facts, problems). Facts is None when it cannot be read."""
    field = f"files[{i}]"
    if not f.path.is_file():
        return None, [
            _p(field, "file_missing", f"找不到文件 {f.name}", f"file not found: {f.name}")
        ]
    size = f.path.stat().st_size
    if size == 0:
        return None, [_p(field, "empty_file", f"文件为空：{f.name}", f"file is empty: {f.name}")]
    if size > max_bytes:
        return None, [
            _p(
                field,
                "file_too_large",
                f"文件 {f.name} 大小 {size} 字节，超过上限 {max_bytes} 字节",
                f"file {f.name} is {size} bytes, over the limit of {max_bytes}",
            )
        ]
    d = digest_file(f.path)
    problems = _declared_digest_problems(field, f, d)
    fmt = identify(d.head, f.name)
    source: bytes | Path = d.head if d.size <= WHOLE_READ_LIMIT else f.path
    try:
        extracted = extract_text(source, fmt)
    except InvalidInputError as exc:  # zip bombs, XML entity attacks
        return None, problems + [_p(field, p.code, p.zh, p.en) for p in exc.problems]
    if extracted.readable is False:  # damaged; None means a format we accept but do not read
        problems.append(
            _p(
                field,
                "unreadable_content",
                f"{f.name} 声称为 {fmt.name} 但无法读取："
                + "；".join(p.zh for p in extracted.problems),
                f"{f.name} claims to be {fmt.name} but cannot be read: "
                + "; ".join(p.en for p in extracted.problems),
            )
        )
    facts = FileFacts(
        name=f.name,
        role=f.role,
        size=d.size,
        sha256=d.sha256,
        sha512=d.sha512,
        sm3=d.sm3,
        mime=fmt.mime,
        format_name=fmt.name,
        format_version=fmt.version or None,
        format_information=format_information(fmt),
        preferred_format=fmt.preferred,
        readable=extracted.readable is not False,
        pages=extracted.pages,
        text=extracted.text,
        problems=[str(p) for p in extracted.problems],
    )
    return facts, problems


def _declared_digest_problems(field: str, f: IncomingFile, d: Digests) -> list[Problem]:
    problems = []
    for alg, declared, actual in (
        ("sm3", f.declared_sm3, d.sm3),
        ("sha256", f.declared_sha256, d.sha256),
    ):
        if declared is not None and declared.strip().lower() != actual:
            problems.append(
                _p(
                    f"{field}.{alg}",
                    "digest_mismatch",
                    f"{f.name} 的 {alg.upper()} 摘要与声明不符（声明 {declared}，实际 {actual}）",
                    f"{alg.upper()} of {f.name} does not match: declared {declared}, got {actual}",
                )
            )
    return problems
