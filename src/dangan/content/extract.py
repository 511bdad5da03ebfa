"""Text extraction for the formats we can read (PDF, OFD, DOCX, TXT).

Used for the full-text index and for the DA/T 70 usability check ("can the content be
rendered/read?"). Input is untrusted: containers are checked for zip bombs and XML is parsed
with defusedxml (attacks raise `InvalidInputError`); damaged files do not raise but come back
with an "unreadable_content" problem and `readable=False`.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from dangan.content.formats import FormatInfo
from dangan.core.errors import InvalidInputError, Problem

# Zip bomb limits: total declared uncompressed size and the compression ratio.
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 10_000
# Below this total, a high ratio is harmless (small XML parts compress very well).
_RATIO_FLOOR = 1024 * 1024

OFD_NS = "http://www.ofdspec.org/2016"


@dataclass
class ExtractResult:
    text: str
    pages: int | None
    problems: list[Problem] = field(default_factory=list)
    # True: parsed; False: damaged/unreadable; None: a format we do not read (cannot judge).
    readable: bool | None = True


def _problem(code: str, zh: str, en: str) -> Problem:
    """A finding about the content (the one field extraction looks at)."""
    return Problem(field="content", code=code, zh=zh, en=en)


def _no_text(problem: Problem, readable: bool | None) -> ExtractResult:
    return ExtractResult(text="", pages=None, problems=[problem], readable=readable)


def _unreadable(fmt: FormatInfo, detail: str) -> ExtractResult:
    problem = _problem(
        "unreadable_content",
        f"无法读取{fmt.name}文件内容：{detail}",
        f"the {fmt.name} content cannot be read: {detail}",
    )
    return _no_text(problem, readable=False)


def _attack(code: str, zh: str, en: str) -> InvalidInputError:
    return InvalidInputError.of([_problem(code, zh, en)])


def check_zip(zf: zipfile.ZipFile, compressed_size: int) -> None:
    """Refuse archives whose declared expansion is too large (sizes are enforced on read)."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    ratio_ok = total <= _RATIO_FLOOR or total <= MAX_RATIO * max(compressed_size, 1)
    if len(infos) > MAX_MEMBERS or total > MAX_UNCOMPRESSED or not ratio_ok:
        raise _attack(
            "zip_bomb",
            f"压缩包解压后过大（{len(infos)} 个文件，共 {total} 字节），疑似压缩炸弹",
            f"the archive expands too much ({len(infos)} members, {total} bytes); "
            "a possible zip bomb",
        )


def parse_xml(data: bytes) -> Element:
    """Parse untrusted XML; DTDs, entities and external references are refused."""
    try:
        return safe_fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise _attack(
            "unsafe_xml",
            "XML 含有被禁止的 DTD 或实体声明",
            f"the XML declares a forbidden DTD or entity ({type(exc).__name__})",
        ) from exc


def extract_text(data: bytes | str | Path, fmt: FormatInfo) -> ExtractResult:
    """Extract plain text; raises `InvalidInputError` only for hostile input."""
    raw = Path(data).read_bytes() if isinstance(data, str | Path) else data
    handler = _HANDLERS.get(fmt.name)
    if handler is None:
        problem = _problem(
            "unsupported_format",
            f"不提取{fmt.name}格式的文本",
            f"text is not extracted from {fmt.name} files",
        )
        return _no_text(problem, readable=None)
    try:
        return handler(raw, fmt)
    except InvalidInputError:
        raise
    except Exception as exc:  # any parser failure on damaged input is a finding, not a crash
        return _unreadable(fmt, f"{type(exc).__name__}: {exc}"[:300])


# --- PDF ---------------------------------------------------------------------------------


def _pdf(raw: bytes, fmt: FormatInfo) -> ExtractResult:
    from pypdf import PdfReader

    # pypdf logs recoverable damage as warnings; the result's problems carry what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(raw), strict=False)
    problems: list[Problem] = []
    if reader.is_encrypted and not reader.decrypt(""):
        return _unreadable(fmt, "encrypted / 已加密")
    texts = [page.extract_text() or "" for page in reader.pages]
    text = "\n".join(t.strip("\n") for t in texts)
    if not text.strip():
        problems.append(
            _problem(
                "no_text_layer",
                "PDF 没有可提取的文字层（可能为扫描件）",
                "the PDF has no extractable text layer (possibly scanned)",
            )
        )
    return ExtractResult(text=text, pages=len(texts), problems=problems)


# --- DOCX --------------------------------------------------------------------------------


def _open_zip(raw: bytes) -> zipfile.ZipFile:
    zf = zipfile.ZipFile(io.BytesIO(raw))
    check_zip(zf, len(raw))
    return zf


def _docx(raw: bytes, fmt: FormatInfo) -> ExtractResult:
    import docx

    with _open_zip(raw) as zf:
        for info in zf.infolist():
            if info.filename.endswith((".xml", ".rels")):
                part = zf.read(info)
                if b"<!DOCTYPE" in part or b"<!ENTITY" in part:
                    raise _attack(
                        "unsafe_xml",
                        "DOCX 的 XML 部件含有 DTD 或实体声明",
                        f"a DOCX XML part ({info.filename}) declares a DTD or entity",
                    )
    document = docx.Document(io.BytesIO(raw))
    lines: list[str] = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                if not cells or cells[-1] != cell.text:  # merged cells repeat their text
                    cells.append(cell.text)
            lines.append("\t".join(cells))
    text = "\n".join(line for line in lines if line.strip())
    return ExtractResult(text=text, pages=None)


# --- OFD ---------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: Element, name: str) -> list[Element]:
    return [e for e in elem.iter() if _local(e.tag) == name]


def _resolve(base_dir: PurePosixPath, loc: str) -> str:
    """OFD locations are relative to the referring file, or absolute from the package root."""
    loc = loc.strip().replace("\\", "/")
    path = PurePosixPath(loc.lstrip("/")) if loc.startswith("/") else base_dir / loc
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


_PAGE_NUM = re.compile(r"Page_(\d+)/Content\.xml$")


def _ofd_page_locs(zf: zipfile.ZipFile, names: set[str]) -> list[str]:
    root = parse_xml(zf.read("OFD.xml"))
    doc_roots = [e.text for e in _children(root, "DocRoot") if e.text]
    doc_path = _resolve(PurePosixPath(""), doc_roots[0]) if doc_roots else "Doc_0/Document.xml"
    if doc_path in names:
        document = parse_xml(zf.read(doc_path))
        doc_dir = PurePosixPath(doc_path).parent
        locs = [
            _resolve(doc_dir, page.get("BaseLoc", ""))
            for page in _children(document, "Page")
            if page.get("BaseLoc")
        ]
        if locs:
            return locs
    # No usable Document.xml: fall back to page directories in numeric order.
    found = [(int(m.group(1)), n) for n in names if (m := _PAGE_NUM.search(n))]
    return [n for _, n in sorted(found)]


def _ofd(raw: bytes, fmt: FormatInfo) -> ExtractResult:
    problems: list[Problem] = []
    pages_text: list[str] = []
    with _open_zip(raw) as zf:
        names = set(zf.namelist())
        if "OFD.xml" not in names:
            return _unreadable(fmt, "OFD.xml missing / 缺少 OFD.xml")
        locs = _ofd_page_locs(zf, names)
        for loc in locs:
            if loc not in names:
                problems.append(
                    _problem(
                        "unreadable_content",
                        f"OFD 页面文件缺失：{loc}",
                        f"an OFD page file is missing: {loc}",
                    )
                )
                continue
            page = parse_xml(zf.read(loc))
            lines = [
                "".join(code.text or "" for code in _children(obj, "TextCode"))
                for obj in _children(page, "TextObject")
            ]
            pages_text.append("\n".join(line for line in lines if line))
    readable = not problems and bool(locs)
    if not locs:
        return _unreadable(fmt, "no pages / 没有页面")
    return ExtractResult(
        text="\n".join(pages_text), pages=len(locs), problems=problems, readable=readable
    )


# --- TXT ---------------------------------------------------------------------------------


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), then GB18030; raises UnicodeDecodeError if neither."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _txt(raw: bytes, fmt: FormatInfo) -> ExtractResult:
    if b"\x00" in raw:
        return _unreadable(fmt, "contains NUL bytes / 含有空字节")
    return ExtractResult(text=decode_text(raw), pages=None)


_HANDLERS: dict[str, Callable[[bytes, FormatInfo], ExtractResult]] = {
    "PDF": _pdf,
    "PDF/A": _pdf,
    "DOCX": _docx,
    "OFD": _ofd,
    "TXT": _txt,
}
