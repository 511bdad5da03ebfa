"""Read a zipped BagIt bag (RFC 8493) into a `Submission`, safely.

Extraction is our own, entry by entry (never `extractall`): every name goes through
`safe_logical_path` (no `..`, absolute paths, drive letters, back-slashes, controls →
`unsafe_path`), symlinks and special files are refused, only stored/deflated entries are
read, and limits are checked twice: on the declared sizes first, then on the bytes actually
decompressed (a header that lies cannot slip past; zipfile also stops at the declared size
and checks the CRC → `corrupt_zip`). Then `bagit.Bag(...).validate()` checks the manifests.

Decisions:
- the zip holds one bag: `bagit.txt` at the top, or inside the only top-level folder
  (`__MACOSX/` entries are skipped);
- a payload manifest for sha256 or sha512 is required (`missing_manifest`); a
  `manifest-sm3.txt` is tolerated and read for `IncomingFile.declared_sm3` (bagit itself
  does not check it; Dangan's receiving does);
- metadata: an envelope `metadata.json` (format of `records.envelope`) at the bag's top (a
  tag file) or at `data/metadata.json` (not both: `ambiguous_metadata`). Without one, fields
  of bag-info.txt are mapped: Title → title, Source-Organization → author,
  External-Description → abstract, External-Identifier → the source id fallback, and any
  label that is a WS element key or Chinese name (e.g. "题名") → that element. Bagging-Date
  is *not* mapped to date: it is when the bag was made, not the record's date;
- files are every payload file under data/ except data/metadata.json, in sorted order;
  role and declared digests from the envelope's "files" list if given (else role main);
  declared sha256 from the bag's manifest;
- `source_system` is the caller's (an envelope naming another → `source_system_mismatch`);
  `source_id` is the caller's if given, else the envelope's, else External-Identifier.
Files stay where they were extracted, under `work_dir/bag/`; on error `work_dir` is emptied.
"""

from __future__ import annotations

import stat
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import Any

import bagit

from dangan.core.errors import InvalidInputError, Problem
from dangan.interop.envelope import read_envelope, submission_from
from dangan.interop.limits import (
    DEFAULT_LIMITS,
    MIB,
    PackageLimits,
    clear_work_dir,
    prepare_work_dir,
    problem,
)
from dangan.metadata.schema import ws_schema
from dangan.records.domain import ROLE_MAIN, IncomingFile, Submission
from dangan.storage.domain import safe_logical_path

BAG_DIR = "bag"
METADATA_NAME = "metadata.json"
# A small file may compress extremely well (a page of blanks); the ratio limit applies above this.
RATIO_FLOOR = 1 * MIB
_CHUNK = 1 << 16
_SKIP_PREFIX = "__MACOSX/"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    struct.error,
    NotImplementedError,
    OverflowError,
)
_BAG_INFO_MAP = {
    "title": "title",
    "source-organization": "author",
    "external-description": "abstract",
}


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
    elif info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        out.append(
            _bomb(
                name,
                f"压缩比超过 {limits.max_ratio}:1",
                f"the compression ratio exceeds {limits.max_ratio}:1",
            )
        )
    return out


def _plan(zf: zipfile.ZipFile, limits: PackageLimits) -> list[tuple[zipfile.ZipInfo, str]]:
    """Check every entry before writing anything; return (entry, safe path) of the files."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise InvalidInputError.of(
            [
                _bomb(
                    "zip",
                    f"压缩包有 {len(infos)} 个条目，超过上限 {limits.max_entries}",
                    f"the zip has {len(infos)} entries, over the limit of {limits.max_entries}",
                )
            ]
        )
    problems: list[Problem] = []
    files: list[tuple[zipfile.ZipInfo, str]] = []
    seen: dict[str, str] = {}
    dirs: set[str] = set()
    declared_total = 0
    for info in infos:
        raw = info.orig_filename
        if raw.startswith(_SKIP_PREFIX):
            continue
        if "\x00" in raw:
            problems.append(
                Problem(repr(raw), "unsafe_path", "条目名称含 NUL 字符", "the entry name has a NUL")
            )
            continue
        is_dir = info.is_dir()
        try:
            name = safe_logical_path(raw[:-1] if is_dir else raw)
        except InvalidInputError as exc:
            problems.extend(Problem(raw, p.code, p.zh, p.en) for p in exc.problems)
            continue
        problems.extend(_entry_problems(info, limits))
        folded = name.casefold()
        if folded in seen and not (is_dir and folded in dirs):
            problems.append(
                Problem(
                    raw,
                    "duplicate_name",
                    f"条目 {raw} 与 {seen[folded]} 重名",
                    f"entry {raw!r} duplicates {seen[folded]!r}",
                )
            )
            continue
        seen[folded] = raw
        parts = folded.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + (1 if is_dir else 0)))
        if not is_dir:
            declared_total += info.file_size
            files.append((info, name))
    # A file whose name is also a folder of another entry ("a" and "a/b").
    for info, name in files:
        if name.casefold() in dirs:
            problems.append(
                Problem(
                    info.orig_filename,
                    "duplicate_name",
                    f"{name} 既是文件又是文件夹",
                    f"{name!r} is both a file and a folder",
                )
            )
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


def _extract(
    zf: zipfile.ZipFile, files: list[tuple[zipfile.ZipInfo, str]], root: Path, limits: PackageLimits
) -> None:
    total = 0
    for info, name in files:
        target = root / name
        if not target.resolve().is_relative_to(root):  # defence in depth; names are checked
            raise problem(name, "unsafe_path", "路径越出解压目录", "the path leaves the target")
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with zf.open(info) as src, target.open("xb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > limits.max_file_bytes or written > info.file_size:
                        raise problem(
                            name,
                            "zip_bomb",
                            "条目实际解压大小超过上限或声明值",
                            "the entry decompresses to more than the limit or its declared size",
                        )
                    if total > limits.max_total_bytes:
                        raise problem(
                            name,
                            "zip_bomb",
                            f"解压合计超过 {limits.max_total_bytes} 字节",
                            f"extraction exceeds {limits.max_total_bytes} bytes in total",
                        )
                    if written > RATIO_FLOOR and written > limits.max_ratio * max(
                        info.compress_size, 1
                    ):
                        raise problem(
                            name,
                            "zip_bomb",
                            f"压缩比超过 {limits.max_ratio}:1",
                            f"the compression ratio exceeds {limits.max_ratio}:1",
                        )
                    out.write(chunk)
        except _ZIP_ERRORS as exc:
            raise problem(
                name,
                "corrupt_zip",
                f"压缩包条目已损坏：{exc}",
                f"the zip entry is corrupt: {exc}",
            ) from None
        if written != info.file_size:
            raise problem(
                name,
                "corrupt_zip",
                f"条目实际 {written} 字节，声明 {info.file_size} 字节",
                f"the entry has {written} bytes but declares {info.file_size}",
            )


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        with zip_path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise problem(
            "zip", "not_found", f"无法读取压缩包：{exc}", f"cannot read the zip: {exc}"
        ) from None
    try:
        return zipfile.ZipFile(zip_path)
    except (*_ZIP_ERRORS, OSError) as exc:
        if head in _ZIP_MAGIC:
            raise problem(
                "zip",
                "corrupt_zip",
                f"压缩包已损坏或被截断：{exc}",
                f"the zip is corrupt or truncated: {exc}",
            ) from None
        raise problem(
            "zip", "not_a_zip", "文件不是 zip 压缩包", "the file is not a zip archive"
        ) from None


def _find_bag(root: Path) -> Path:
    if (root / "bagit.txt").is_file():
        return root
    tops = [p for p in root.iterdir() if p.name != _SKIP_PREFIX.rstrip("/")]
    if len(tops) == 1 and tops[0].is_dir() and (tops[0] / "bagit.txt").is_file():
        return tops[0]
    raise problem(
        "zip",
        "not_a_bag",
        "压缩包顶层或唯一的顶层文件夹中没有 bagit.txt",
        "no bagit.txt at the top of the zip or in its only top-level folder",
    )


def _validate_bag(bag_dir: Path) -> Any:
    """The validated `bagit.Bag`; manifest problems reported all at once."""
    if not any((bag_dir / f"manifest-{alg}.txt").is_file() for alg in ("sha256", "sha512")):
        raise problem(
            "manifest",
            "missing_manifest",
            "袋中须有 manifest-sha256.txt 或 manifest-sha512.txt",
            "the bag needs manifest-sha256.txt or manifest-sha512.txt",
        )
    fetch = bag_dir / "fetch.txt"
    if fetch.is_file() and fetch.read_bytes().strip():
        raise problem(
            "fetch.txt",
            "unsupported_bag",
            "不接收需要下载文件的袋（fetch.txt）",
            "bags that need files fetched (fetch.txt) are not accepted",
        )
    try:
        bag = bagit.Bag(str(bag_dir))
        # Payload-Oxum is checked last, so a wrong file gets its specific problem first.
        oxum = bag.info.pop("Payload-Oxum", None)
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        problems = [_detail_problem(d) for d in exc.details]
        if not problems:
            problems = [Problem("bag", "invalid_bag", f"袋无效：{exc}", f"invalid bag: {exc}")]
        raise InvalidInputError.of(problems) from None
    except bagit.BagError as exc:
        code = "unsafe_path" if "is unsafe" in str(exc) else "invalid_bag"
        raise problem("bag", code, f"袋无效：{exc}", f"invalid bag: {exc}") from None
    except (UnicodeError, ValueError, OSError) as exc:
        raise problem("bag", "invalid_bag", f"袋无效：{exc}", f"invalid bag: {exc}") from None
    _check_oxum(oxum, bag_dir)
    return bag


def _check_oxum(oxum: object, bag_dir: Path) -> None:
    if isinstance(oxum, list):
        oxum = oxum[0] if oxum else None
    if oxum is None:
        return
    payload = [p for p in (bag_dir / "data").rglob("*") if p.is_file()]
    found = f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    if str(oxum).strip() != found:
        raise problem(
            "bag-info.txt",
            "oxum_mismatch",
            f"Payload-Oxum 为 {oxum}，实际为 {found}（字节数.文件数）",
            f"Payload-Oxum is {oxum} but the payload is {found} (bytes.files)",
        )


def _detail_problem(detail: Any) -> Problem:
    path = str(getattr(detail, "path", "bag"))
    if isinstance(detail, bagit.ChecksumMismatch):
        return Problem(
            path,
            "digest_mismatch",
            f"{path} 的 {detail.algorithm} 摘要与清单不符",
            f"the {detail.algorithm} digest of {path} does not match the manifest",
        )
    if isinstance(detail, bagit.FileMissing):
        return Problem(
            path,
            "file_missing",
            f"清单列出的 {path} 不存在",
            f"{path} is in the manifest but missing",
        )
    if isinstance(detail, bagit.UnexpectedFile):
        return Problem(
            path,
            "not_in_manifest",
            f"{path} 不在清单中",
            f"{path} is not listed in the manifest",
        )
    return Problem(path, "invalid_bag", f"袋无效：{detail}", f"invalid bag: {detail}")


def _manifest_digests(bag: Any, alg: str) -> dict[str, str]:
    """data/ path (NFC) → digest from bagit's parsed manifests."""
    out: dict[str, str] = {}
    for path, hashes in bag.entries.items():
        if alg in hashes:
            out[unicodedata.normalize("NFC", path.replace("\\", "/"))] = hashes[alg].lower()
    return out


def _sm3_digests(bag_dir: Path) -> dict[str, str]:
    manifest = bag_dir / "manifest-sm3.txt"
    if not manifest.is_file():
        return {}
    out: dict[str, str] = {}
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise problem("manifest-sm3.txt", "invalid_bag", "不是 UTF-8", "is not UTF-8") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise problem(
                "manifest-sm3.txt",
                "invalid_bag",
                f"第 {n} 行格式错误",
                f"line {n} is malformed",
            )
        out[unicodedata.normalize("NFC", parts[1].lstrip("*"))] = parts[0].lower()
    return out


def _bag_info_metadata(bag: Any) -> tuple[dict[str, Any], str | None]:
    schema = ws_schema()
    meta: dict[str, Any] = {}
    external_id: str | None = None
    for label, value in bag.info.items():
        folded = label.strip().lower()
        if folded == "external-identifier":
            external_id = value[0] if isinstance(value, list) else value
            continue
        key = _BAG_INFO_MAP.get(folded)
        if key is None:
            el = schema.get(label.strip())
            key = el.key if el is not None else None
        if key is not None:
            meta[key] = value
    return meta, external_id


def read_bagit_zip(
    zip_path: Path,
    work_dir: Path,
    *,
    source_system: str,
    source_id: str | None = None,
    limits: PackageLimits = DEFAULT_LIMITS,
) -> Submission:
    """Extract and validate a zipped bag under `work_dir/bag` (must be empty) → Submission.

    Raises `InvalidInputError`; on error nothing is left in `work_dir`.
    """
    work = prepare_work_dir(work_dir)
    try:
        return _read(zip_path, work, source_system, source_id, limits)
    except BaseException:
        clear_work_dir(work)
        raise


def _read(
    zip_path: Path, work: Path, source_system: str, source_id: str | None, limits: PackageLimits
) -> Submission:
    root = work / BAG_DIR
    root.mkdir()
    with _open_zip(zip_path) as zf:
        try:
            files = _plan(zf, limits)
        except _ZIP_ERRORS as exc:
            raise problem(
                "zip", "corrupt_zip", f"压缩包已损坏：{exc}", f"the zip is corrupt: {exc}"
            ) from None
        _extract(zf, files, root, limits)
    bag_dir = _find_bag(root)
    bag = _validate_bag(bag_dir)
    return _submission(bag, bag_dir, source_system, source_id)


def _declared_entries(envelope: dict[str, Any] | None, problems: list[Problem]) -> dict[str, Any]:
    """The envelope's "files" list by NFC name."""
    declared: dict[str, dict[str, Any]] = {}
    entries = (envelope or {}).get("files") or []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(
                Problem(
                    f"files[{i}]",
                    "bad_file_entry",
                    "文件条目须含 name",
                    "each file entry needs a name",
                )
            )
            continue
        declared[unicodedata.normalize("NFC", entry["name"])] = entry
    return declared


def _payload_files(
    bag: Any, bag_dir: Path, skip: Path, declared: dict[str, Any], problems: list[Problem]
) -> list[IncomingFile]:
    data_dir = bag_dir / "data"
    payload = sorted(p for p in data_dir.rglob("*") if p.is_file() and p != skip)
    sha256 = _manifest_digests(bag, "sha256")
    sm3 = _sm3_digests(bag_dir)
    incoming: list[IncomingFile] = []
    for path in payload:
        name = path.relative_to(data_dir).as_posix()
        entry = declared.pop(name, {})
        found = {"sha256": sha256.get(f"data/{name}"), "sm3": sm3.get(f"data/{name}")}
        for alg, manifest_value in found.items():
            given = entry.get(alg)
            if isinstance(given, str) and manifest_value and given.lower() != manifest_value:
                problems.append(
                    Problem(
                        name,
                        "digest_mismatch",
                        f"{name} 在 metadata.json 与清单中的 {alg} 摘要不同",
                        f"{name} has different {alg} digests in metadata.json and the manifest",
                    )
                )
            elif isinstance(given, str) and not manifest_value:
                found[alg] = given
        incoming.append(
            IncomingFile(
                path=path,
                name=name,
                role=str(entry.get("role") or ROLE_MAIN),
                declared_sm3=found["sm3"],
                declared_sha256=found["sha256"],
            )
        )
    for name in declared:
        problems.append(
            Problem(
                name,
                "file_missing",
                f"metadata.json 列出的 {name} 不在袋的 data/ 中",
                f"{name} is listed in metadata.json but not in the bag's data/",
            )
        )
    if not incoming:
        problems.append(Problem("data", "no_files", "袋中没有文件", "the bag holds no files"))
    return incoming


def _submission(bag: Any, bag_dir: Path, source_system: str, source_id: str | None) -> Submission:
    data_dir = bag_dir / "data"
    top_meta, data_meta = bag_dir / METADATA_NAME, data_dir / METADATA_NAME
    if top_meta.is_file() and data_meta.is_file():
        raise problem(
            METADATA_NAME,
            "ambiguous_metadata",
            "袋顶层与 data/ 中都有 metadata.json，只能有一个",
            "metadata.json is both at the bag's top and in data/; only one is allowed",
        )
    envelope: dict[str, Any] | None = None
    for candidate in (top_meta, data_meta):
        if candidate.is_file():
            envelope = read_envelope(candidate)
    problems: list[Problem] = []
    declared = _declared_entries(envelope, problems)
    files = _payload_files(bag, bag_dir, data_meta, declared, problems)
    found_id: str | None
    if envelope is not None:
        claimed = envelope.get("source_system")
        if claimed and str(claimed) != source_system:
            problems.append(
                Problem(
                    "source_system",
                    "source_system_mismatch",
                    f"metadata.json 声明来源系统 {claimed}，与提交方 {source_system} 不符",
                    f"metadata.json names source system {claimed!r}, not {source_system!r}",
                )
            )
        base = submission_from(
            {k: v for k, v in envelope.items() if k != "files"}, data_dir, source_system, ""
        )
        metadata, found_id = base.metadata, source_id or base.source_id
        fonds, category = base.fonds, base.category
    else:
        metadata, external_id = _bag_info_metadata(bag)
        found_id = source_id or external_id
        fonds, category = None, "WS"
    if not found_id:
        problems.append(
            Problem(
                "source_id",
                "missing_source_id",
                "未给出业务标识，袋中也没有（metadata.json 的 source_id 或 External-Identifier）",
                "no source id given and the bag has none (metadata.json source_id or "
                "External-Identifier)",
            )
        )
    if problems or not found_id:
        raise InvalidInputError.of(problems)
    return Submission(
        source_system=source_system,
        source_id=found_id,
        metadata=metadata,
        files=files,
        fonds=fonds,
        category=category,
    )
