"""Text extraction of the readable formats, hostile input, and the sample generator."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from dangan.content import extract_text, identify
from dangan.content.extract import MAX_UNCOMPRESSED
from dangan.content.formats import FormatInfo
from dangan.content.samples import DOC_TYPES, generate_samples
from dangan.core.errors import InvalidInputError

OFD_NS = "http://www.ofdspec.org/2016"


def squash(text: str) -> str:
    # Laid-out formats wrap long titles over lines.
    return re.sub(r"\s+", "", text)


def fmt_of(data: bytes, name: str) -> FormatInfo:
    return identify(data, name)


def test_every_sample_is_identified_and_its_text_extracts(tmp_path: Path) -> None:
    samples = generate_samples(tmp_path / "s", 16, seed=7)
    assert len(samples) == 16
    expected = {"pdf": "PDF", "docx": "DOCX", "ofd": "OFD", "txt": "TXT"}
    for path, meta in samples:
        data = path.read_bytes()
        fmt = identify(data, path.name)
        assert fmt.name == expected[path.suffix[1:]], path
        result = extract_text(path, fmt)
        assert result.readable is True, result.problems
        assert result.problems == []
        assert squash(meta["title"]) in squash(result.text), path
        assert meta["document_number"] in squash(result.text)
        if fmt.name in ("PDF", "OFD"):
            assert result.pages == meta["pages"]


def test_sample_metadata(tmp_path: Path) -> None:
    samples = generate_samples(tmp_path, 12, seed=1)
    for _path, meta in samples:
        assert set(meta) == {
            "title",
            "document_number",
            "author",
            "date",
            "document_type",
            "security_classification",
            "department",
            "keywords",
            "pages",
        }
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["date"])
        assert re.fullmatch(r"\S+〔\d{4}〕\d+号", meta["document_number"])
        assert meta["document_type"] in DOC_TYPES
        assert meta["security_classification"] == "公开"
        assert meta["keywords"]
        assert meta["pages"] >= 1


def test_samples_are_deterministic(tmp_path: Path) -> None:
    a = generate_samples(tmp_path / "a", 8, seed=5)
    b = generate_samples(tmp_path / "b", 8, seed=5)
    assert [m for _, m in a] == [m for _, m in b]
    for (pa, _), (pb, _) in zip(a, b, strict=True):
        if pa.suffix != ".docx":  # python-docx stamps its own package metadata
            assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_unknown_sample_format_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as err:
        generate_samples(tmp_path / "s", 2, formats=("txt", "rtf"))
    assert [(p.field, p.code) for p in err.value.problems] == [("formats", "unknown_sample_format")]
    assert not (tmp_path / "s").exists()


def test_docx_tables_are_extracted() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("会议纪要正文")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "姓名"
    table.cell(0, 1).text = "职务"
    table.cell(1, 0).text = "王伟"
    table.cell(1, 1).text = "处长"
    buf = io.BytesIO()
    document.save(buf)
    data = buf.getvalue()
    result = extract_text(data, identify(data, "a.docx"))
    assert "会议纪要正文" in result.text
    assert "王伟\t处长" in result.text


def test_txt_gb18030() -> None:
    data = "关于做好档案工作的通知".encode("gb18030")
    assert extract_text(data, identify(data, "a.txt")).text == "关于做好档案工作的通知"


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def ofd_package(pages: dict[str, str], order: list[str]) -> bytes:
    ofd = (
        f'<ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
        "<ofd:DocRoot>/Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    refs = "".join(f'<ofd:Page ID="{i}" BaseLoc="{loc}"/>' for i, loc in enumerate(order))
    document = f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:Pages>{refs}</ofd:Pages></ofd:Document>'
    members = {"OFD.xml": ofd.encode(), "Doc_0/Document.xml": document.encode()}
    for loc, words in pages.items():
        members[f"Doc_0/{loc}"] = (
            f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer ID="1">'
            f'<ofd:TextObject ID="2"><ofd:TextCode X="0" Y="0">{words}</ofd:TextCode>'
            "</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>"
        ).encode()
    return make_zip(members)


def test_ofd_page_order_follows_document_xml() -> None:
    data = ofd_package(
        {"Pages/Page_0/Content.xml": "第二页", "Pages/Page_1/Content.xml": "第一页"},
        ["Pages/Page_1/Content.xml", "Pages/Page_0/Content.xml"],
    )
    result = extract_text(data, identify(data, "a.ofd"))
    assert result.text == "第一页\n第二页"
    assert result.pages == 2


def test_ofd_missing_page_is_a_problem() -> None:
    data = ofd_package(
        {"Pages/Page_0/Content.xml": "正文"},
        ["Pages/Page_0/Content.xml", "Pages/Page_9/Content.xml"],
    )
    result = extract_text(data, identify(data, "a.ofd"))
    assert result.readable is False
    assert [p.code for p in result.problems] == ["unreadable_content"]
    assert "正文" in result.text


def test_xml_entity_attack_is_rejected() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f'<ofd:OFD xmlns:ofd="{OFD_NS}">&lol2;</ofd:OFD>'
    )
    data = make_zip({"OFD.xml": bomb.encode()})
    with pytest.raises(InvalidInputError) as err:
        extract_text(data, identify(data, "a.ofd"))
    assert err.value.problems[0].code == "unsafe_xml"


def test_external_entity_in_docx_is_rejected() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><w>&e;</w>'
    data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": xxe})
    with pytest.raises(InvalidInputError) as err:
        extract_text(data, identify(data, "a.docx"))
    assert err.value.problems[0].code == "unsafe_xml"


def test_zip_bomb_by_ratio_is_rejected() -> None:
    data = make_zip({"OFD.xml": b"<x/>", "Doc_0/pad.bin": b"\x00" * (20 * 1024 * 1024)})
    with pytest.raises(InvalidInputError) as err:
        extract_text(data, identify(data, "a.ofd"))
    assert err.value.problems[0].code == "zip_bomb"
    assert err.value.problems[0].zh


def test_zip_bomb_by_declared_size_is_rejected() -> None:
    # Stored (not compressed) members, so the ratio is fine; the declared size is patched.
    data = bytearray(make_zip({"OFD.xml": b"<x/>", "word/document.xml": b"y"}, zipfile.ZIP_STORED))
    cd = data.rfind(b"PK\x01\x02")  # the last central directory entry
    data[cd + 24 : cd + 28] = (MAX_UNCOMPRESSED + 1).to_bytes(4, "little")
    with pytest.raises(InvalidInputError) as err:
        extract_text(bytes(data), identify(bytes(data), "a.ofd"))
    assert err.value.problems[0].code == "zip_bomb"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n1 0 obj garbage garbage", "a.pdf"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 10, "a.pdf"),
        (make_zip({"word/document.xml": b"<not-closed"}), "a.docx"),
        (make_zip({"OFD.xml": b"<ofd:OFD"}), "a.ofd"),
        (b"PK\x03\x04\x14\x00\x00\x00OFD.xml truncated", "a.ofd"),
    ],
)
def test_corrupt_files_give_a_problem_not_a_traceback(data: bytes, name: str) -> None:
    fmt = identify(data, name)
    assert fmt.readable_by_us
    result = extract_text(data, fmt)
    assert result.readable is False
    assert result.problems[0].code == "unreadable_content"
    assert result.problems[0].zh
    assert result.problems[0].en


def test_unsupported_format_cannot_be_judged() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00"
    result = extract_text(data, identify(data, "a.png"))
    assert result.readable is None
    assert result.problems[0].code == "unsupported_format"


def test_pdf_without_text_layer() -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(10, 10, 100, 100)
    c.showPage()
    c.save()
    data = buf.getvalue()
    result = extract_text(data, identify(data, "scan.pdf"))
    assert result.readable is True
    assert result.pages == 1
    assert [p.code for p in result.problems] == ["no_text_layer"]
