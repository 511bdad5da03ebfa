"""DA/T 48-2009-style package description (电子文件封装包) as XML.

Rendered with xml.etree (which never writes a DTD or entity), parsed back with defusedxml
(which refuses DTDs, entities and external references), so a hostile package cannot make
the parser fetch or expand anything.

Departure from DA/T 48: 编码数据 does not embed the file as Base64. The bytes live in the
OCFL object next to this XML, so 编码数据 is left empty and carries a reference (the
logical path) and the SHA-256/SM3 digests as attributes in our own namespace; 编码描述 says
so in words.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only builds and serialises; parsing uses defusedxml
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from dangan.core.errors import invalid
from dangan.storage.domain import utc_iso

NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
REF_NS = "urn:dangan:eep-reference:1"
EEP_VERSION = "2009"
FORMAT_DESCRIPTION = (
    "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成"
)
TYPE_ORIGINAL = "原始型"
TYPE_ORIGINAL_DESCRIPTION = "本封装包包含电子文件数据及其元数据，原始封装，未经修改"
ENCODING_DESCRIPTION = (
    "本封装包不以Base64内嵌文件数据；文件数据保存在同一OCFL对象中，"
    "以编码数据的引用路径定位，并以SHA-256与SM3摘要核验"
)

# Elements of the package structure a metadata key may not shadow.
_RESERVED = frozenset({"文件数据", "文档", "文档数据", "编码", "电子属性", "编码数据"})
# XML 1.0 Name, without ':' (no namespace prefixes for metadata elements).
_NAME = re.compile(r"^[^\W\d][\w.\-]*$")
# Characters XML 1.0 cannot carry at all.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FileInfo:
    """One computer file of the record, as described in 电子属性."""

    name: str  # logical path in the OCFL object (计算机文件名)
    size: int
    format: str  # 格式信息, e.g. "PDF 1.7" or a PRONOM id
    sha256: str
    sm3: str


@dataclass(frozen=True)
class ParsedPackage:
    metadata: dict[str, Any]
    files: list[FileInfo]
    created: str
    creator: str
    package_type: str


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(value: object, field: str) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if _BAD_CHARS.search(text):
        raise invalid(
            field,
            "xml_invalid_char",
            "含有 XML 不允许的控制字符",
            "contains a control character XML cannot carry",
        )
    return text


def _sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    el = ET.SubElement(parent, _q(tag))
    if text is not None:
        el.text = _text(text, tag)
    return el


def _element_name(key: str, element_names: Mapping[str, str]) -> str:
    name = element_names.get(key, key)
    if not _NAME.match(name) or name in _RESERVED:
        raise invalid(
            key,
            "xml_invalid_name",
            f"元数据项名称 {name!r} 不能用作 XML 元素名",
            f"metadata name {name!r} cannot be an XML element name",
        )
    return name


def _add_metadata(
    parent: ET.Element,
    metadata: Mapping[str, object],
    element_names: Mapping[str, str],
) -> None:
    # Lists become repeated elements, mappings nested ones, None is omitted.
    for key, value in metadata.items():
        if value is None:
            continue
        name = _element_name(key, element_names)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, Mapping):
                _add_metadata(_sub(parent, name), item, element_names)
            elif item is not None:
                _sub(parent, name, item)


def render_package_xml(
    metadata: Mapping[str, object],
    files: Sequence[FileInfo],
    *,
    created: datetime,
    creator: str,
    element_names: Mapping[str, str] | None = None,
) -> bytes:
    """The package description XML (UTF-8, with declaration) of one original (原始型) package.

    `element_names` maps metadata keys to their Chinese element names (from the metadata
    element registry); a key without an entry is used as the element name itself.
    """
    names = element_names or {}
    ET.register_namespace("", NS)
    ET.register_namespace("dangan", REF_NS)
    root = ET.Element(_q("电子文件封装包"))
    _sub(root, "封装包格式描述", FORMAT_DESCRIPTION)
    _sub(root, "版本", EEP_VERSION)
    signed = _sub(root, "被签名对象")
    signed.set("eep版本", EEP_VERSION)
    _sub(signed, "封装包类型", TYPE_ORIGINAL)
    _sub(signed, "封装包类型描述", TYPE_ORIGINAL_DESCRIPTION)
    _sub(signed, "封装包创建时间", utc_iso(created))
    _sub(signed, "封装包创建单位", creator)
    block = _sub(_sub(signed, "封装内容"), "文件实体块")
    entity = _sub(block, "文件实体")
    _add_metadata(entity, metadata, names)
    data = _sub(entity, "文件数据")
    for n, info in enumerate(files, start=1):
        doc_id = f"修改0-文档{n}"
        doc = _sub(data, "文档")
        _sub(doc, "文档标识符", doc_id)
        _sub(doc, "文档序号", n)
        _sub(doc, "文档主从声明", "主文档" if n == 1 else "附属文档")
        _sub(doc, "题名", info.name.rsplit("/", 1)[-1])
        doc_data = _sub(doc, "文档数据")
        doc_data.set("文档数据ID", f"{doc_id}-文档数据1")
        enc = _sub(doc_data, "编码")
        enc.set("编码ID", f"{doc_id}-编码1")
        props = _sub(enc, "电子属性")
        _sub(props, "格式信息", info.format)
        _sub(props, "计算机文件名", info.name)
        _sub(props, "计算机文件大小", info.size)
        _sub(enc, "编码描述", ENCODING_DESCRIPTION)
        suffix = info.name.rsplit(".", 1)[-1] if "." in info.name else ""
        _sub(enc, "反编码关键字", suffix)
        # A reference, not Base64: OCFL holds the bytes (see the module docstring).
        payload = _sub(enc, "编码数据")
        payload.set("编码数据ID", f"{doc_id}-编码数据1")
        payload.set(f"{{{REF_NS}}}引用", _text(info.name, "计算机文件名"))
        payload.set(f"{{{REF_NS}}}sha256", info.sha256)
        payload.set(f"{{{REF_NS}}}sm3", info.sm3)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _read_metadata(el: ET.Element, reverse: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in el:
        if not child.tag.startswith(f"{{{NS}}}"):
            continue
        local = child.tag[len(NS) + 2 :]
        if local == "文件数据":
            continue
        key = reverse.get(local, local)
        value: Any = _read_metadata(child, reverse) if len(child) else (child.text or "")
        if key in out:
            prior = out[key]
            out[key] = [*prior, value] if isinstance(prior, list) else [prior, value]
        else:
            out[key] = value
    return out


def parse_package(data: bytes, element_names: Mapping[str, str] | None = None) -> ParsedPackage:
    """Parse a package description; DTDs and entities are refused (code xml_unsafe)."""
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise invalid(
            "package_xml",
            "xml_unsafe",
            "封装包含 DTD、实体或外部引用，已拒绝",
            "the package XML has a DTD, entities or external references; refused",
        ) from None
    except ET.ParseError as e:
        raise invalid(
            "package_xml",
            "xml_malformed",
            f"封装包 XML 格式错误：{e}",
            f"the package XML is malformed: {e}",
        ) from None
    if root.tag != _q("电子文件封装包"):
        raise invalid(
            "package_xml",
            "xml_not_eep",
            "根元素不是 DA/T 48 电子文件封装包",
            "the root element is not a DA/T 48 电子文件封装包",
        )
    reverse = {v: k for k, v in (element_names or {}).items()}
    signed = root.find(_q("被签名对象"))
    entity = root.find(f"{_q('被签名对象')}/{_q('封装内容')}/{_q('文件实体块')}/{_q('文件实体')}")
    if signed is None or entity is None:
        raise invalid(
            "package_xml",
            "xml_not_eep",
            "缺少 被签名对象/封装内容/文件实体块/文件实体",
            "missing 被签名对象/封装内容/文件实体块/文件实体",
        )
    files: list[FileInfo] = []
    for enc in entity.iter(_q("编码")):
        payload = enc.find(_q("编码数据"))
        files.append(
            FileInfo(
                name=enc.findtext(f"{_q('电子属性')}/{_q('计算机文件名')}") or "",
                size=int(enc.findtext(f"{_q('电子属性')}/{_q('计算机文件大小')}") or 0),
                format=enc.findtext(f"{_q('电子属性')}/{_q('格式信息')}") or "",
                sha256="" if payload is None else payload.get(f"{{{REF_NS}}}sha256", ""),
                sm3="" if payload is None else payload.get(f"{{{REF_NS}}}sm3", ""),
            )
        )
    return ParsedPackage(
        metadata=_read_metadata(entity, reverse),
        files=files,
        created=signed.findtext(_q("封装包创建时间")) or "",
        creator=signed.findtext(_q("封装包创建单位")) or "",
        package_type=signed.findtext(_q("封装包类型")) or "",
    )


def parse_package_xml(
    data: bytes, element_names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The metadata mapping of a package description (keys mapped back via `element_names`).

    Values come back as strings (the registry re-types them); repeated elements as lists,
    nested elements as mappings.
    """
    return parse_package(data, element_names).metadata
