"""The computer files of an EEP: each 编码 as read, then checked and moved under `files/`.

While the XML streams, each 编码数据 is decoded into `work/.partial/<n>`; only once the whole
package has been read are the files judged together (a name, embedded data, no duplicate
name, the declared 计算机文件大小) and the good ones renamed to `work/files/<logical path>`.
Every problem of every file is collected before the package is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dangan.core.errors import Problem
from dangan.interop.safety import checked_name, fold_name
from dangan.records.domain import IncomingFile

FILES_DIR = "files"
PARTIAL_DIR = ".partial"


@dataclass
class Encoding:
    """One 编码 (computer file) as the XML gave it."""

    index: int
    role: str
    name: str = ""  # 计算机文件名
    size_text: str = ""  # 计算机文件大小
    temp: Path | None = None  # where its 编码数据 was decoded to
    written: int = 0
    has_data: bool = False
    reference: str | None = None  # our own dangan:引用 attribute
    sha256: str | None = None
    sm3: str | None = None


def finish_files(
    work: Path, encodings: list[Encoding], problems: list[Problem]
) -> list[IncomingFile]:
    """The files that check out, moved under `work/files`; problems of the others added."""
    files: list[IncomingFile] = []
    seen: dict[str, str] = {}
    for enc in encodings:
        name = _accepted_name(enc, seen, problems)
        if name is None or enc.temp is None:
            continue
        target = work / FILES_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        enc.temp.rename(target)
        files.append(
            IncomingFile(
                path=target,
                name=name,
                role=enc.role,
                declared_sm3=enc.sm3 or None,
                declared_sha256=enc.sha256 or None,
            )
        )
    if not encodings:
        problems.append(
            Problem(
                "文件数据",
                "no_files",
                "文件实体不含任何编码（计算机文件）",
                "文件实体 holds no 编码 (computer file)",
            )
        )
    return files


def _accepted_name(enc: Encoding, seen: dict[str, str], problems: list[Problem]) -> str | None:
    """The 编码's safe logical path, or None with what is wrong added to `problems`."""
    where = f"编码[{enc.index}]"
    if not enc.name:
        problems.append(
            Problem(
                f"{where}.计算机文件名",
                "missing_file_name",
                "编码缺少计算机文件名",
                "the 编码 has no 计算机文件名",
            )
        )
        return None
    name = checked_name(enc.name, f"{where}.计算机文件名", problems)
    if name is None:
        return None
    if enc.temp is None or (not enc.has_data and enc.size_text != "0"):
        how_zh = "只有引用，未内嵌文件数据" if enc.reference else "编码数据为空或缺失"
        how_en = "is a reference, not embedded data" if enc.reference else "is empty or missing"
        problems.append(
            Problem(
                f"{where}.编码数据",
                "missing_file_data",
                f"{name} 的{how_zh}",
                f"the 编码数据 of {name} {how_en}",
            )
        )
        return None
    folded = fold_name(name)
    if folded in seen:
        problems.append(
            Problem(
                f"{where}.计算机文件名",
                "duplicate_name",
                f"文件名 {name} 与 {seen[folded]} 重复",
                f"file name {name!r} duplicates {seen[folded]!r}",
            )
        )
        return None
    seen[folded] = name
    if enc.size_text.isdigit() and int(enc.size_text) != enc.written:
        problems.append(
            Problem(
                f"{where}.计算机文件大小",
                "size_mismatch",
                f"{name} 声明 {enc.size_text} 字节，实际 {enc.written} 字节",
                f"{name} declares {enc.size_text} bytes but has {enc.written}",
            )
        )
        return None
    return name
