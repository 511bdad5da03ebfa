"""File-format identification: magic bytes first, the file name's extension second.

The result feeds the DA/T 46 "format information" metadata element and the DA/T 70 checks:
PDF/A and OFD are the preferred preservation formats, other formats are accepted and flagged.
`identify` looks only at the bytes it is given; pass the whole file for containers (OFD, DOCX,
XLSX) when possible, otherwise the local headers visible in the head are scanned.
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

# How much of a file callers should read for `identify`: enough for the PDF header and an
# uncompressed XMP packet near the start, and the first zip local headers.
HEAD_SIZE = 64 * 1024


@dataclass(frozen=True)
class FormatInfo:
    name: str
    version: str
    mime: str
    extension: str
    preferred: bool
    readable_by_us: bool
    charset: str | None = None  # for text formats only

    @property
    def is_unknown(self) -> bool:
        return self.name == UNKNOWN


UNKNOWN = "unknown"

MIME_PDF = "application/pdf"
MIME_OFD = "application/ofd"
MIME_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_PDF_VERSION = re.compile(rb"%PDF-(\d\.\d)")
_PDFA_PART = re.compile(rb"pdfaid:part(?:>|\s*=\s*[\"'])\s*(\d)")
_PDFA_CONF = re.compile(rb"pdfaid:conformance(?:>|\s*=\s*[\"'])\s*([A-Za-z])")
_OFD_VERSION = re.compile(rb"<(?:\w+:)?OFD\b[^>]*\bVersion\s*=\s*[\"']([^\"']+)[\"']")
_JFIF = re.compile(rb"^\xff\xd8\xff\xe0..JFIF\x00(.)(.)", re.DOTALL)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"

_OLE_BY_EXT = {
    "doc": ("DOC", "application/msword"),
    "xls": ("XLS", "application/vnd.ms-excel"),
    "ppt": ("PPT", "application/vnd.ms-powerpoint"),
    "wps": ("WPS", "application/vnd.ms-works"),
}


def _ext(filename: str) -> str:
    return PurePath(filename).suffix.lower().lstrip(".")


def _fmt(
    name: str,
    mime: str,
    extension: str,
    *,
    version: str = "",
    preferred: bool = False,
    readable: bool = False,
    charset: str | None = None,
) -> FormatInfo:
    return FormatInfo(name, version, mime, extension, preferred, readable, charset)


def identify(head: bytes, filename: str) -> FormatInfo:
    """Identify the format of a file from its first bytes (or all of them) and its name."""
    ext = _ext(filename)
    if head[:1024].find(b"%PDF-") != -1:  # PDF allows junk before the header (first 1 KiB)
        return _identify_pdf(head)
    if head.startswith((_ZIP_LOCAL, b"PK\x05\x06")):
        return _identify_zip(head, ext)
    other = _identify_other_binary(head, ext)
    if other is not None:
        return other
    charset = text_charset(head)
    if charset is not None:
        return _fmt("TXT", "text/plain", "txt", readable=True, charset=charset)
    return _fmt(UNKNOWN, "application/octet-stream", ext)


def _identify_other_binary(head: bytes, ext: str) -> FormatInfo | None:
    """Formats we recognise but do not read."""
    if head.startswith(b"\xff\xd8\xff"):
        m = _JFIF.match(head)
        version = f"{m.group(1)[0]}.{m.group(2)[0]:02d}" if m else ""
        return _fmt("JPEG", "image/jpeg", "jpg", version=version)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _fmt("PNG", "image/png", "png")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        big = head[2:4] in (b"+\x00", b"\x00+")
        return _fmt("TIFF", "image/tiff", "tif", version="BigTIFF" if big else "6.0")
    if head.startswith(_OLE_MAGIC):
        name, mime = _OLE_BY_EXT.get(ext, ("OLE2", "application/x-ole-storage"))
        return _fmt(name, mime, ext if ext in _OLE_BY_EXT else "", version="OLE2")
    return None


def _identify_pdf(head: bytes) -> FormatInfo:
    m = _PDF_VERSION.search(head[:1024])
    version = m.group(1).decode("ascii") if m else ""
    part = _PDFA_PART.search(head)
    if part:
        conf = _PDFA_CONF.search(head)
        level = part.group(1).decode("ascii") + (
            conf.group(1).decode("ascii").lower() if conf else ""
        )
        return _fmt("PDF/A", MIME_PDF, "pdf", version=level, preferred=True, readable=True)
    return _fmt("PDF", MIME_PDF, "pdf", version=version, readable=True)


def _zip_names(data: bytes) -> tuple[list[str], bytes | None, bool]:
    """Member names, OFD.xml's bytes (if small) and whether the listing is complete.

    A head cut short has no central directory: then the visible local headers are scanned.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            ofd_xml = None
            if "OFD.xml" in names and zf.getinfo("OFD.xml").file_size <= 1024 * 1024:
                ofd_xml = zf.read("OFD.xml")
            return names, ofd_xml, True
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        pass
    names = []
    pos = data.find(_ZIP_LOCAL)
    while pos != -1 and pos + 30 <= len(data):
        comp_size, _, name_len, extra_len = struct.unpack_from("<IIHH", data, pos + 18)
        name = data[pos + 30 : pos + 30 + name_len].decode("utf-8", "replace")
        names.append(name)
        nxt = pos + 30 + name_len + extra_len + comp_size
        # A data descriptor leaves sizes at zero: fall back to searching for the next header.
        pos = data.find(_ZIP_LOCAL, nxt if comp_size else pos + 4)
    return names, None, False


def _identify_zip(head: bytes, ext: str) -> FormatInfo:
    names, ofd_xml, complete = _zip_names(head)
    nameset = {n.lstrip("/") for n in names}
    if "OFD.xml" in nameset or (not complete and ext == "ofd"):
        version = "1.0"
        if ofd_xml is not None:
            m = _OFD_VERSION.search(ofd_xml)
            if m:
                version = m.group(1).decode("ascii", "replace")
        return _fmt("OFD", MIME_OFD, "ofd", version=version, preferred=True, readable=True)
    # Only the first entries were visible: trust the extension for the container kind.
    if "word/document.xml" in nameset or (not complete and ext == "docx"):
        return _fmt("DOCX", MIME_DOCX, "docx", version="OOXML", readable=True)
    if "xl/workbook.xml" in nameset or (not complete and ext == "xlsx"):
        return _fmt("XLSX", MIME_XLSX, "xlsx", version="OOXML")
    return _fmt("ZIP", "application/zip", "zip")


_ALLOWED_CONTROLS = frozenset("\t\n\r\f\x0b")


def text_charset(data: bytes) -> str | None:
    """'UTF-8' or 'GB18030' if `data` is plausibly text (a head may end mid-character)."""
    if not data or b"\x00" in data:
        return None
    for charset, codec in (("UTF-8", "utf-8-sig"), ("GB18030", "gb18030")):
        try:
            text = codecs.getincrementaldecoder(codec)().decode(data, final=False)
        except UnicodeDecodeError:
            continue
        if not text:
            continue
        controls = sum(1 for ch in text if ch < " " and ch not in _ALLOWED_CONTROLS)
        if controls * 100 <= len(text):  # binary junk decodes as GB18030 but is full of controls
            return charset
    return None


def format_information(fmt: FormatInfo) -> str:
    """The DA/T 46 format-information string, e.g. 格式名称：PDF，格式版本：1.7，MIME媒体类型：…"""
    mime = fmt.mime if fmt.charset is None else f"{fmt.mime}; charset={fmt.charset}"
    name = "未知" if fmt.is_unknown else fmt.name
    version = fmt.version or "未知"
    return f"格式名称：{name}，格式版本：{version}，MIME媒体类型：{mime}"
