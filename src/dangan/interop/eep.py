"""Read a DA/T 48 电子文件封装包 (EEP) into a `Submission`, safely.

The XML is streamed through defusedxml's SAX reader with DTDs, entities and external
references forbidden (billion laughs, XXE → `unsafe_xml`). 编码数据 (Base64 file bytes) is
decoded chunk by chunk straight to disk, so a huge package never sits in memory; the decoded
bytes are counted against `PackageLimits` as they are written.

Mapping decisions:
- metadata comes from 文件实体 (its 文件数据 excluded); containers that are not elements of
  the WS element set (来源, 档号, 内容描述 …) are flattened into their leaves, Chinese names
  become our keys via `ws_schema()`; unknown names stay as given (validation reports them);
  a repeated element becomes a list;
- each 编码 is one file: 计算机文件名 (through `safe_logical_path`) + decoded 编码数据; role
  from 文档主从声明 (主文档 → main, 附属文档 → attachment; without it the first 文档 is
  main); declared digests from our own `dangan:sha256` / `dangan:sm3` attributes if present;
- 文件标识符 is package structure, not DA/T 46 metadata: it is removed from the metadata and
  used, after 电子文件号, as the fallback source id;
- 电子签名块 / 锁定签名 are parsed (Base64 checked) and returned, not verified;
- only 原始型 packages (封装内容) are read; 修改封装内容 is refused (`eep_unsupported`).
  业务实体块 and 机构人员实体块 are ignored.
Files land in `work_dir/files/<logical path>`; on any error everything written is removed.

This module maps a read package to a `Submission`; the reading itself is `eep_xml` (the
streaming parser and what it refuses), `eep_base64` (payload decoding within the limits),
`eep_files` (judging and placing the files) and `eep_signatures`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.interop.eep_files import FILES_DIR, PARTIAL_DIR, finish_files
from dangan.interop.eep_signatures import EepSignature
from dangan.interop.eep_xml import EepHandler, parse_eep_xml
from dangan.interop.limits import DEFAULT_LIMITS, MIB, ByteBudget, PackageLimits
from dangan.interop.safety import read_in_work_dir
from dangan.metadata.schema import MetadataSchema, ws_schema
from dangan.records.domain import Submission

__all__ = [
    "FILES_DIR",
    "EepPackage",
    "EepSignature",
    "read_eep",
    "read_eep_package",
]

_FILE_ID = "文件标识符"
_XML_SLACK = 64 * MIB  # XML overhead allowed on top of Base64-expanded payload


@dataclass(frozen=True)
class EepPackage:
    submission: Submission
    signatures: list[EepSignature]
    package_type: str  # 封装包类型
    created: str  # 封装包创建时间
    creator: str  # 封装包创建单位


def read_eep_package(
    xml_path: Path,
    work_dir: Path,
    *,
    source_system: str,
    source_id: str | None = None,
    limits: PackageLimits = DEFAULT_LIMITS,
) -> EepPackage:
    """Read an EEP file; decoded files are written under `work_dir/files` (must be empty).

    Raises `InvalidInputError` (codes in the module docstring and README of this package);
    on error nothing is left in `work_dir`.
    """
    return read_in_work_dir(
        work_dir, lambda work: _read(xml_path, work, source_system, source_id, limits)
    )


def read_eep(
    xml_path: Path,
    work_dir: Path,
    *,
    source_system: str,
    source_id: str | None = None,
    limits: PackageLimits = DEFAULT_LIMITS,
) -> Submission:
    """`read_eep_package` without the signatures and package header."""
    return read_eep_package(
        xml_path, work_dir, source_system=source_system, source_id=source_id, limits=limits
    ).submission


def _read(
    xml_path: Path, work: Path, source_system: str, source_id: str | None, limits: PackageLimits
) -> EepPackage:
    _check_file_size(xml_path, limits)
    (work / PARTIAL_DIR).mkdir()
    (work / FILES_DIR).mkdir()
    eep = EepHandler(work, ByteBudget(limits))
    parse_eep_xml(xml_path, eep)
    if not eep.entity_seen:
        raise invalid(
            "文件实体",
            "missing_file_entity",
            "封装包缺少 被签名对象/封装内容/文件实体块/文件实体",
            "the package lacks 被签名对象/封装内容/文件实体块/文件实体",
        )
    problems = list(eep.problems)
    metadata: dict[str, Any] = {}
    _flatten(eep.metadata_tree, ws_schema(), metadata)
    file_id = metadata.pop(_FILE_ID, None)
    files = finish_files(work, eep.encodings, problems)
    record_code = metadata.get("electronic_record_code")
    found_id = source_id or _first_text(record_code) or _first_text(file_id)
    if not found_id:
        problems.append(
            Problem(
                "source_id",
                "missing_source_id",
                "未给出业务标识，封装包也没有电子文件号或文件标识符",
                "no source id given and the package has no 电子文件号 or 文件标识符",
            )
        )
    if problems or not found_id:
        raise InvalidInputError.of(problems)
    shutil.rmtree(work / PARTIAL_DIR)
    submission = Submission(
        source_system=source_system, source_id=found_id, metadata=metadata, files=files
    )
    return EepPackage(
        submission=submission,
        signatures=eep.signatures,
        package_type=eep.header.get("封装包类型", ""),
        created=eep.header.get("封装包创建时间", ""),
        creator=eep.header.get("封装包创建单位", ""),
    )


def _check_file_size(xml_path: Path, limits: PackageLimits) -> None:
    """Refuse a file larger than its decoded payload could be, before parsing anything."""
    try:
        size = xml_path.stat().st_size
    except OSError as exc:
        raise invalid(
            "package_xml", "not_found", f"无法读取封装包：{exc}", f"cannot read the package: {exc}"
        ) from None
    # Base64 is 4 characters per 3 bytes; the slack covers metadata and markup.
    if size > limits.max_total_bytes // 3 * 4 + _XML_SLACK:
        raise invalid(
            "package_xml",
            "package_too_large",
            f"封装包文件过大（{size} 字节）",
            f"the package file is too large ({size} bytes)",
        )


def _flatten(tree: list[tuple[str, Any]], schema: MetadataSchema, out: dict[str, Any]) -> None:
    for name, value in tree:
        if isinstance(value, list):
            _flatten(value, schema, out)  # a container: its leaves are the elements
            continue
        el = schema.get(name)
        key = el.key if el is not None else name
        if key in out:
            prior = out[key]
            out[key] = [*prior, value] if isinstance(prior, list) else [prior, value]
        else:
            out[key] = value


def _first_text(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() or None if isinstance(value, str) else None
