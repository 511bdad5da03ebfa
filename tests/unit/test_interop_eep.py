"""DA/T 48 EEP packages become Submissions; also holds the EEP fixture builder."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from dangan.core.errors import ConfigurationError, InvalidInputError
from dangan.interop.eep import FILES_DIR, read_eep, read_eep_package
from dangan.interop.limits import PackageLimits
from dangan.records.domain import ROLE_ATTACHMENT, ROLE_MAIN
from dangan.storage.package_xml import FORMAT_DESCRIPTION, FileInfo, render_package_xml

NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
REF_NS = "urn:dangan:eep-reference:1"

MAIN_BYTES = b"%PDF-1.7\n" + "关于做好2024年档案工作的通知".encode() + bytes(range(256))
ATTACHMENT_BYTES = "附件：名单\n张三\n李四\n".encode()

# DA/T 46 metadata as producers nest it (containers 来源, 内容描述 … are flattened).
METADATA = """
    <聚合层次>件</聚合层次>
    <来源><立档单位名称>某市档案局</立档单位名称></来源>
    <电子文件号>DZ-2024-0001</电子文件号>
    <文件标识符>F-0001</文件标识符>
    <内容描述>
      <题名>关于做好2024年档案工作的通知</题名>
      <责任者>某市档案局</责任者>
      <责任者>某市财政局</责任者>
      <日期>20240315</日期>
      <文种>通知</文种>
    </内容描述>
    <文件编号>档发〔2024〕1号</文件编号>
"""

SIGNATURE = """
  <电子签名块>
    <电子签名>
      <签名标识符>修改0-签名1</签名标识符>
      <签名规则>GB/T 38540</签名规则>
      <签名时间>2024-03-15T10:00:00+08:00</签名时间>
      <签名人>某市档案局</签名人>
      <签名结果>{sig}</签名结果>
      <证书块><证书>{cert}</证书><证书引证>https://ca.example.cn/1</证书引证></证书块>
      <签名算法标识>SM2-SM3</签名算法标识>
    </电子签名>
  </电子签名块>
  <锁定签名>
    <被锁定签名标识符>修改0-签名1</被锁定签名标识符>
    <签名规则>GB/T 38540</签名规则>
    <签名结果>{sig}</签名结果>
    <证书块><证书>{cert}</证书></证书块>
    <签名算法标识>SM2-SM3</签名算法标识>
  </锁定签名>
""".format(
    sig=base64.b64encode(b"\x30\x45signature").decode(),
    cert=base64.b64encode(b"\x30\x82certificate").decode(),
)


def b64(data: bytes, width: int = 76) -> str:
    """RFC 2045 style: lines of 76 characters."""
    text = base64.b64encode(data).decode()
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def document(
    n: int, name: str, payload: str, *, role: str | None = None, size: int | None = None
) -> str:
    """One 文档 with one 编码; `payload` is the 编码数据 text (normally Base64)."""
    role_el = f"<文档主从声明>{role}</文档主从声明>" if role else ""
    size_el = f"<计算机文件大小>{size}</计算机文件大小>" if size is not None else ""
    return f"""
      <文档>
        <文档标识符>修改0-文档{n}</文档标识符>
        <文档序号>{n}</文档序号>
        {role_el}
        <文档数据 文档数据ID="修改0-文档{n}-文档数据1">
          <编码 编码ID="修改0-文档{n}-编码1">
            <电子属性>
              <格式信息>PDF 1.7</格式信息>
              <计算机文件名>{name}</计算机文件名>
              {size_el}
            </电子属性>
            <编码描述>Base64</编码描述>
            <反编码关键字>pdf</反编码关键字>
            <编码数据 编码数据ID="修改0-文档{n}-编码数据1">{payload}</编码数据>
          </编码>
        </文档数据>
      </文档>"""


def two_documents() -> str:
    return document(1, "正文.pdf", b64(MAIN_BYTES), role="主文档", size=len(MAIN_BYTES)) + document(
        2, "附件/名单.txt", b64(ATTACHMENT_BYTES), role="附属文档"
    )


def eep_xml(
    documents: str | None = None,
    *,
    metadata: str = METADATA,
    signatures: str = SIGNATURE,
    prolog: str = "",
    entity: bool = True,
    encoding: str = "UTF-8",
) -> bytes:
    """A DA/T 48 原始型 package; by default Chinese metadata and two Base64 files."""
    docs = two_documents() if documents is None else documents
    content = (
        f"<封装内容><文件实体块><文件实体>{metadata}<文件数据>{docs}</文件数据>"
        "</文件实体></文件实体块></封装内容>"
        if entity
        else "<封装内容><业务实体块><业务实体><业务状态>归档</业务状态></业务实体>"
        "</业务实体块></封装内容>"
    )
    text = f"""<?xml version="1.0" encoding="{encoding}"?>
{prolog}<电子文件封装包 xmlns="{NS}">
  <封装包格式描述>{FORMAT_DESCRIPTION}</封装包格式描述>
  <版本>2009</版本>
  <被签名对象 eep版本="2009">
    <封装包类型>原始型</封装包类型>
    <封装包类型描述>本封装包包含电子文件数据及其元数据，原始封装，未经修改</封装包类型描述>
    <封装包创建时间>2024-03-15T10:00:00+08:00</封装包创建时间>
    <封装包创建单位>某市档案局</封装包创建单位>
    {content}
  </被签名对象>
  {signatures}
</电子文件封装包>
"""
    return text.encode("gb18030" if encoding.lower() in {"gbk", "gb2312", "gb18030"} else "utf-8")


def write_eep(tmp_path: Path, data: bytes, name: str = "package.eep") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_chinese_metadata_and_two_files(tmp_path: Path) -> None:
    xml = write_eep(tmp_path, eep_xml())
    work = tmp_path / "work"
    pkg = read_eep_package(xml, work, source_system="oa", source_id=None)
    sub = pkg.submission
    assert sub.source_system == "oa"
    assert sub.source_id == "DZ-2024-0001"  # from 电子文件号
    assert sub.metadata == {
        "aggregation_level": "件",
        "fonds_constituting_unit_name": "某市档案局",
        "electronic_record_code": "DZ-2024-0001",
        "title": "关于做好2024年档案工作的通知",
        "author": ["某市档案局", "某市财政局"],
        "date": "20240315",
        "document_type": "通知",
        "document_number": "档发〔2024〕1号",
    }
    assert [(f.name, f.role) for f in sub.files] == [
        ("正文.pdf", ROLE_MAIN),
        ("附件/名单.txt", ROLE_ATTACHMENT),
    ]
    assert sub.files[0].path.read_bytes() == MAIN_BYTES
    assert sub.files[1].path.read_bytes() == ATTACHMENT_BYTES
    for f in sub.files:
        assert f.path.is_relative_to(work.resolve() / FILES_DIR)
    assert sorted(p.name for p in work.iterdir()) == [FILES_DIR]  # no temp files left
    assert pkg.package_type == "原始型"
    assert pkg.creator == "某市档案局"


def test_signatures_are_kept(tmp_path: Path) -> None:
    pkg = read_eep_package(write_eep(tmp_path, eep_xml()), tmp_path / "w", source_system="oa")
    sig, lock = pkg.signatures
    assert sig.kind == "电子签名"
    assert sig.signature_id == "修改0-签名1"
    assert sig.algorithm == "SM2-SM3"
    assert sig.value == b"\x30\x45signature"
    assert sig.certificates == (b"\x30\x82certificate",)
    assert sig.certificate_refs == ("https://ca.example.cn/1",)
    assert lock.kind == "锁定签名"
    assert lock.signature_id == "修改0-签名1"


def test_given_source_id_wins_and_file_identifier_fallback(tmp_path: Path) -> None:
    xml = write_eep(tmp_path, eep_xml())
    sub = read_eep(xml, tmp_path / "a", source_system="oa", source_id="OA-1")
    assert sub.source_id == "OA-1"
    meta = METADATA.replace("<电子文件号>DZ-2024-0001</电子文件号>", "")
    xml2 = write_eep(tmp_path, eep_xml(metadata=meta), "b.eep")
    sub2 = read_eep(xml2, tmp_path / "b", source_system="oa", source_id=None)
    assert sub2.source_id == "F-0001"
    assert "文件标识符" not in sub2.metadata


def test_missing_source_id(tmp_path: Path) -> None:
    meta = "<题名>无标识</题名>"
    xml = write_eep(tmp_path, eep_xml(metadata=meta))
    with pytest.raises(InvalidInputError) as exc:
        read_eep(xml, tmp_path / "w", source_system="oa", source_id=None)
    assert [p.code for p in exc.value.problems] == ["missing_source_id"]


def test_gb18030_encoded_package(tmp_path: Path) -> None:
    xml = write_eep(tmp_path, eep_xml(encoding="GB2312"))
    sub = read_eep(xml, tmp_path / "w", source_system="oa")
    assert sub.metadata["title"] == "关于做好2024年档案工作的通知"
    assert sub.files[1].path.read_bytes() == ATTACHMENT_BYTES


def test_declared_digests_and_default_roles(tmp_path: Path) -> None:
    sha = hashlib.sha256(MAIN_BYTES).hexdigest()
    docs = document(1, "a.pdf", b64(MAIN_BYTES)).replace(
        'ID="修改0-文档1-编码数据1"',
        f'ID="修改0-文档1-编码数据1" xmlns:d="{REF_NS}" d:sha256="{sha}" d:sm3="abc"',
    ) + document(2, "b.pdf", b64(b"x"))
    sub = read_eep(write_eep(tmp_path, eep_xml(docs)), tmp_path / "w", source_system="oa")
    assert sub.files[0].declared_sha256 == sha
    assert sub.files[0].declared_sm3 == "abc"
    assert [f.role for f in sub.files] == [ROLE_MAIN, ROLE_ATTACHMENT]


def test_every_file_problem_reported_at_once(tmp_path: Path) -> None:
    docs = (
        document(1, "../evil.pdf", b64(b"a"))
        + document(2, "ok.pdf", b64(b"abc"), size=99)
        + document(3, "OK.pdf", b64(b"b"))
        + document(4, "empty.pdf", "")
    )
    work = tmp_path / "w"
    with pytest.raises(InvalidInputError) as exc:
        read_eep(write_eep(tmp_path, eep_xml(docs)), work, source_system="oa")
    codes = sorted(p.code for p in exc.value.problems)
    assert codes == ["duplicate_name", "missing_file_data", "size_mismatch", "unsafe_path"]
    assert list(work.iterdir()) == []


def test_case_duplicate_names(tmp_path: Path) -> None:
    docs = document(1, "a.pdf", b64(b"a")) + document(2, "A.pdf", b64(b"b"))
    with pytest.raises(InvalidInputError) as exc:
        read_eep(write_eep(tmp_path, eep_xml(docs)), tmp_path / "w", source_system="oa")
    assert [p.code for p in exc.value.problems] == ["duplicate_name"]


def test_own_export_without_embedded_bytes_is_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    info = FileInfo(name="正文.pdf", size=3, format="PDF", sha256="0" * 64, sm3="0" * 64)
    data = render_package_xml(
        {"title": "题名", "electronic_record_code": "X-1"},
        [info],
        created=datetime(2024, 1, 1, tzinfo=UTC),
        creator="档案馆",
        element_names={"title": "题名", "electronic_record_code": "电子文件号"},
    )
    with pytest.raises(InvalidInputError) as exc:
        read_eep(write_eep(tmp_path, data), tmp_path / "w", source_system="oa")
    assert [p.code for p in exc.value.problems] == ["missing_file_data"]


def test_large_file_streams_within_limits(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 8192  # 2 MiB, many SAX character chunks
    docs = document(1, "big.bin", b64(blob))
    limits = PackageLimits(max_total_bytes=4 << 20, max_file_bytes=3 << 20)
    sub = read_eep(
        write_eep(tmp_path, eep_xml(docs)), tmp_path / "w", source_system="oa", limits=limits
    )
    assert sub.files[0].path.read_bytes() == blob


def test_work_dir_must_be_empty(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "x").write_text("x")
    with pytest.raises(InvalidInputError, match="empty") as exc:
        read_eep(write_eep(tmp_path, eep_xml()), tmp_path / "w", source_system="oa")
    assert [p.code for p in exc.value.problems] == ["work_dir_not_empty"]
    assert (tmp_path / "w" / "x").read_text() == "x"  # a caller's files are never cleared


@pytest.mark.parametrize("name", ["max_total_bytes", "max_file_bytes", "max_entries", "max_ratio"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(ConfigurationError, match=name) as exc:
        PackageLimits(**{name: 0})
    assert exc.value.code == "invalid_package_limit"
