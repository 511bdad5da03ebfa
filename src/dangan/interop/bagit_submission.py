"""A bag's content as a `Submission`: metadata, files and their declared digests.

- metadata: an envelope `metadata.json` (format of `interop.envelope`) at the bag's top (a
  tag file) or at `data/metadata.json` (not both: `ambiguous_metadata`). Without one, fields
  of bag-info.txt are mapped: Title → title, Source-Organization → author,
  External-Description → abstract, External-Identifier → the source id fallback, and any
  label that is a WS element key or Chinese name (e.g. "题名") → that element. Bagging-Date
  is *not* mapped to date: it is when the bag was made, not the record's date;
- files are every payload file under data/ except data/metadata.json, in sorted order;
  role and declared digests from the envelope's "files" list if given (else role main);
  declared sha256 from the bag's manifest, declared SM3 from a `manifest-sm3.txt` (bagit
  itself does not check it; Dangan's receiving does);
- `source_system` is the caller's (an envelope naming another → `source_system_mismatch`);
  `source_id` is the caller's if given, else the envelope's, else External-Identifier.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.interop.envelope import read_envelope, submission_from
from dangan.metadata.schema import ws_schema
from dangan.records.domain import ROLE_MAIN, IncomingFile, Submission

METADATA_NAME = "metadata.json"
_BAG_INFO_MAP = {
    "title": "title",
    "source-organization": "author",
    "external-description": "abstract",
}


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
        raise invalid("manifest-sm3.txt", "invalid_bag", "不是 UTF-8", "is not UTF-8") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise invalid(
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


def submission_from_bag(
    bag: Any, bag_dir: Path, source_system: str, source_id: str | None
) -> Submission:
    """The submission a validated bag describes; every problem reported at once."""
    data_dir = bag_dir / "data"
    top_meta, data_meta = bag_dir / METADATA_NAME, data_dir / METADATA_NAME
    if top_meta.is_file() and data_meta.is_file():
        raise invalid(
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
        metadata, found_id, fonds, category = _from_envelope(
            envelope, data_dir, source_system, problems
        )
        found_id = source_id or found_id
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


def _from_envelope(
    envelope: dict[str, Any], data_dir: Path, source_system: str, problems: list[Problem]
) -> tuple[dict[str, Any], str, str | None, str]:
    """(metadata, source id, fonds, category) from the bag's metadata.json."""
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
    return base.metadata, base.source_id, base.fonds, base.category
