"""Extracting an untrusted zip, entry by entry (never `extractall`).

Every entry is judged before anything is written (`plan_entries`): its name goes through
`safe_logical_path` (no `..`, absolute paths, drive letters, back-slashes, controls →
`unsafe_path`), symlinks and special files are refused, only stored/deflated entries are
read, and no two entries may fold to one name or be both a file and a folder. Limits are
then checked twice: on the declared sizes first, then on the bytes actually decompressed (a
header that lies cannot slip past; zipfile also stops at the declared size and checks the
CRC → `corrupt_zip`).
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.interop.limits import ByteBudget, PackageLimits, over_ratio
from dangan.interop.safety import checked_name, fold_name

# Resource forks a Mac adds to a zip it makes: not part of what was packed.
SKIP_PREFIX = "__MACOSX/"
_CHUNK = 1 << 16
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# What zipfile and zlib raise on a damaged archive.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    struct.error,
    NotImplementedError,
    OverflowError,
)

Planned = list[tuple[zipfile.ZipInfo, str]]  # (entry, safe path) of each file to extract


def extract_zip(zip_path: Path, root: Path, limits: PackageLimits) -> None:
    """Extract the files of `zip_path` under `root`, refusing it whole if anything is off."""
    with open_zip(zip_path) as zf:
        try:
            files = plan_entries(zf, limits)
        except ZIP_ERRORS as exc:
            raise invalid(
                "zip", "corrupt_zip", f"压缩包已损坏：{exc}", f"the zip is corrupt: {exc}"
            ) from None
        _extract(zf, files, root, limits)


def open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        with zip_path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise invalid(
            "zip", "not_found", f"无法读取压缩包：{exc}", f"cannot read the zip: {exc}"
        ) from None
    try:
        return zipfile.ZipFile(zip_path)
    except (*ZIP_ERRORS, OSError) as exc:
        if head in _ZIP_MAGIC:
            raise invalid(
                "zip",
                "corrupt_zip",
                f"压缩包已损坏或被截断：{exc}",
                f"the zip is corrupt or truncated: {exc}",
            ) from None
        raise invalid(
            "zip", "not_a_zip", "文件不是 zip 压缩包", "the file is not a zip archive"
        ) from None


def _bomb(field: str, zh: str, en: str) -> Problem:
    return Problem(field, "zip_bomb", zh, en)


def _entry_problems(info: zipfile.ZipInfo, limits: PackageLimits) -> list[Problem]:
    """What is wrong with one entry judged by its header alone."""
    name = info.filename
    out: list[Problem] = []
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        what_zh, what_en = (
            ("符号链接", "a symlink") if kind == stat.S_IFLNK else ("特殊文件", "a special file")
        )
        out.append(
            Problem(name, "unsafe_path", f"压缩包条目是{what_zh}", f"the zip entry is {what_en}")
        )
    if info.flag_bits & 0x1:
        out.append(
            Problem(
                name, "unsupported_zip", "不接收加密的条目", "encrypted entries are not accepted"
            )
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        out.append(
            Problem(
                name,
                "unsupported_zip",
                f"不支持的压缩方法 {info.compress_type}（仅接收存储与 Deflate）",
                f"compression method {info.compress_type} is not accepted (stored or deflate)",
            )
        )
    if info.file_size > limits.max_file_bytes:
        out.append(
            _bomb(
                name,
                f"条目声明 {info.file_size} 字节，超过单个文件上限 {limits.max_file_bytes}",
                f"the entry declares {info.file_size} bytes, over the {limits.max_file_bytes} "
                "per-file limit",
            )
        )
    elif over_ratio(info.file_size, info.compress_size, limits):
        out.append(
            _bomb(
                name,
                f"压缩比超过 {limits.max_ratio}:1",
                f"the compression ratio exceeds {limits.max_ratio}:1",
            )
        )
    return out


def plan_entries(zf: zipfile.ZipFile, limits: PackageLimits) -> Planned:
    """Check every entry before writing anything; return (entry, safe path) of the files."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise invalid(
            "zip",
            "zip_bomb",
            f"压缩包有 {len(infos)} 个条目，超过上限 {limits.max_entries}",
            f"the zip has {len(infos)} entries, over the limit of {limits.max_entries}",
        )
    problems: list[Problem] = []
    files: Planned = []
    names = _EntryNames()
    for info in infos:
        name = _entry_name(info, problems)
        if name is None:
            continue
        problems.extend(_entry_problems(info, limits))
        if names.claim(info, name, problems) and not info.is_dir():
            files.append((info, name))
    problems.extend(names.file_folder_clashes(files))
    declared_total = sum(info.file_size for info, _name in files)
    if declared_total > limits.max_total_bytes:
        problems.append(
            _bomb(
                "zip",
                f"条目声明合计 {declared_total} 字节，超过上限 {limits.max_total_bytes}",
                f"the entries declare {declared_total} bytes, over the {limits.max_total_bytes} "
                "limit",
            )
        )
    if problems:
        raise InvalidInputError.of(problems)
    return files


def _entry_name(info: zipfile.ZipInfo, problems: list[Problem]) -> str | None:
    """The entry's safe path (a folder's without its trailing /); None to skip it."""
    raw = info.orig_filename
    if raw.startswith(SKIP_PREFIX):
        return None
    if "\x00" in raw:
        problems.append(
            Problem(repr(raw), "unsafe_path", "条目名称含 NUL 字符", "the entry name has a NUL")
        )
        return None
    return checked_name(raw[:-1] if info.is_dir() else raw, raw, problems)


class _EntryNames:
    """Entry names seen so far, folded, and every folder they imply."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}  # folded name → the raw name that claimed it
        self.dirs: set[str] = set()

    def claim(self, info: zipfile.ZipInfo, name: str, problems: list[Problem]) -> bool:
        """Record the entry; False (with a problem) if its name is taken already."""
        raw, is_dir = info.orig_filename, info.is_dir()
        folded = fold_name(name)
        # A folder may be listed after files inside it implied it.
        if folded in self.seen and not (is_dir and folded in self.dirs):
            problems.append(
                Problem(
                    raw,
                    "duplicate_name",
                    f"条目 {raw} 与 {self.seen[folded]} 重名",
                    f"entry {raw!r} duplicates {self.seen[folded]!r}",
                )
            )
            return False
        self.seen[folded] = raw
        parts = folded.split("/")
        self.dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + (1 if is_dir else 0)))
        return True

    def file_folder_clashes(self, files: Planned) -> list[Problem]:
        """A file whose name is also a folder of another entry ("a" and "a/b")."""
        return [
            Problem(
                info.orig_filename,
                "duplicate_name",
                f"{name} 既是文件又是文件夹",
                f"{name!r} is both a file and a folder",
            )
            for info, name in files
            if fold_name(name) in self.dirs
        ]


def _extract(zf: zipfile.ZipFile, files: Planned, root: Path, limits: PackageLimits) -> None:
    budget = ByteBudget(limits)
    for info, name in files:
        target = root / name
        if not target.resolve().is_relative_to(root):  # defence in depth; names are checked
            raise invalid(name, "unsafe_path", "路径越出解压目录", "the path leaves the target")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with zf.open(info) as src, target.open("xb") as out:
                written = _copy_entry(src, out, info, name, budget)
        except ZIP_ERRORS as exc:
            raise invalid(
                name,
                "corrupt_zip",
                f"压缩包条目已损坏：{exc}",
                f"the zip entry is corrupt: {exc}",
            ) from None
        if written != info.file_size:
            raise invalid(
                name,
                "corrupt_zip",
                f"条目实际 {written} 字节，声明 {info.file_size} 字节",
                f"the entry has {written} bytes but declares {info.file_size}",
            )


def _copy_entry(
    src: IO[bytes], out: IO[bytes], info: zipfile.ZipInfo, name: str, budget: ByteBudget
) -> int:
    """Decompress one entry into `out`, counting every chunk against the limits."""
    limits = budget.limits
    written = 0
    while chunk := src.read(_CHUNK):
        breach = budget.take(written, len(chunk))
        written += len(chunk)
        if breach == "file" or written > info.file_size:
            raise invalid(
                name,
                "zip_bomb",
                "条目实际解压大小超过上限或声明值",
                "the entry decompresses to more than the limit or its declared size",
            )
        if breach == "total":
            raise invalid(
                name,
                "zip_bomb",
                f"解压合计超过 {limits.max_total_bytes} 字节",
                f"extraction exceeds {limits.max_total_bytes} bytes in total",
            )
        if over_ratio(written, info.compress_size, limits):
            raise invalid(
                name,
                "zip_bomb",
                f"压缩比超过 {limits.max_ratio}:1",
                f"the compression ratio exceeds {limits.max_ratio}:1",
            )
        out.write(chunk)
    return written
