"""Format identification from magic bytes and extensions, and the DA/T 46 string."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from dangan.content.formats import HEAD_SIZE, format_information, identify
from dangan.content.samples import generate_samples


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_pdf_version_and_information() -> None:
    fmt = identify(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a.bin")
    assert (fmt.name, fmt.version, fmt.mime) == ("PDF", "1.7", "application/pdf")
    assert fmt.readable_by_us
    assert not fmt.preferred
    assert format_information(fmt) == "格式名称：PDF，格式版本：1.7，MIME媒体类型：application/pdf"


@pytest.mark.parametrize(
    "xmp",
    [
        b'<rdf:Description pdfaid:part="2" pdfaid:conformance="B"/>',
        b"<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>",
    ],
)
def test_pdfa_is_preferred(xmp: bytes) -> None:
    fmt = identify(b"%PDF-1.7\n" + b"x" * 500 + xmp, "a.pdf")
    assert (fmt.name, fmt.version, fmt.preferred) == ("PDF/A", "2b", True)


def test_ofd_is_preferred_and_versioned() -> None:
    ofd = b'<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.1"/>'
    fmt = identify(make_zip({"OFD.xml": ofd, "Doc_0/Document.xml": b"<x/>"}), "x.zip")
    assert (fmt.name, fmt.version, fmt.mime, fmt.preferred) == (
        "OFD",
        "1.1",
        "application/ofd",
        True,
    )


def test_zip_family_by_members() -> None:
    docx = make_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"})
    xlsx = make_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"})
    assert identify(docx, "noext").name == "DOCX"
    assert identify(xlsx, "noext").name == "XLSX"
    assert not identify(xlsx, "noext").readable_by_us
    assert identify(make_zip({"a.txt": b"hi"}), "a.docx").name == "ZIP"
    assert identify(make_zip({"a.txt": b"hi"}), "a.zip").name == "ZIP"


def test_truncated_zip_head_uses_local_headers() -> None:
    data = make_zip({"OFD.xml": b"<ofd/>", "big.bin": bytes(range(256)) * 2000})
    assert identify(data[:100], "x").name == "OFD"


@pytest.mark.parametrize(
    ("head", "filename", "name"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x02", "a.jpg", "JPEG"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a.png", "PNG"),
        (b"II*\x00\x08\x00", "a.tif", "TIFF"),
        (b"MM\x00*\x00\x00", "a.tiff", "TIFF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "旧公文.DOC", "DOC"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "x", "OLE2"),
        (b"\x00\x01\x02\x03binary", "a.pdf", "unknown"),
        (b"", "empty.txt", "unknown"),
    ],
)
def test_recognised_but_not_read(head: bytes, filename: str, name: str) -> None:
    fmt = identify(head, filename)
    assert fmt.name == name
    assert not fmt.readable_by_us
    assert not fmt.preferred


def test_jpeg_version() -> None:
    assert identify(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x02", "a").version == "1.02"


def test_text_utf8_and_gb18030() -> None:
    text = "关于印发档案工作要点的通知\n各单位：\n"
    utf8 = identify(text.encode("utf-8"), "a.dat")
    gb = identify(text.encode("gb18030"), "a.dat")
    assert (utf8.name, utf8.charset) == ("TXT", "UTF-8")
    assert (gb.name, gb.charset) == ("TXT", "GB18030")
    assert format_information(utf8).endswith("text/plain; charset=UTF-8")
    # A head cut in the middle of a multi-byte character is still text.
    assert identify(text.encode("utf-8")[:5], "a").name == "TXT"
    # NULs mean binary.
    assert identify(b"abc\x00def", "a.txt").name == "unknown"


def test_unknown_information() -> None:
    fmt = identify(b"\x00\x00\x00", "x")
    assert (
        format_information(fmt)
        == "格式名称：未知，格式版本：未知，MIME媒体类型：application/octet-stream"
    )


def test_samples_identified_from_head(tmp_path: Path) -> None:
    expected = {"pdf": "PDF", "docx": "DOCX", "ofd": "OFD", "txt": "TXT"}
    for path, _meta in generate_samples(tmp_path, 8, seed=3):
        with path.open("rb") as f:
            head = f.read(HEAD_SIZE)
        assert identify(head, path.name).name == expected[path.suffix[1:]]
