"""Streaming an EEP's XML: what is read, and what the reader refuses on the way.

The XML goes through defusedxml's SAX reader with DTDs, entities and external references
forbidden (billion laughs, XXE → `unsafe_xml`). Expat reads only UTF-8/16 and Latin-1, so a
GB-family declaration is transcoded through GB 18030 as the bytes stream. Depth and text
are bounded (one element's text, all text outside 编码数据), so no element can make the
reader hold more than a few MiB.

`EepHandler` collects, in one pass: the package header (children of 被签名对象), the
metadata tree of 文件实体 (its 文件数据 excluded), each 编码 with its 编码数据 decoded to
disk, and the signatures. Only 原始型 packages are read; 修改封装内容 and 编码数据 that
refer to other 编码数据 are refused (`eep_unsupported`).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.sax import SAXException, handler
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from dangan.core.errors import Problem, invalid
from dangan.interop.eep_base64 import Base64Sink
from dangan.interop.eep_files import PARTIAL_DIR, Encoding
from dangan.interop.eep_signatures import EepSignature, signature_from
from dangan.interop.limits import MIB, ByteBudget
from dangan.records.domain import ROLE_ATTACHMENT, ROLE_MAIN

NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
REF_NS = "urn:dangan:eep-reference:1"  # our own digest attributes (see storage.package_xml)

ROOT = "电子文件封装包"
_ENTITY_PATH = (ROOT, "被签名对象", "封装内容", "文件实体块", "文件实体")
_SIGNATURE_PATH = (ROOT, "电子签名块", "电子签名")
_LOCK_PATH = (ROOT, "锁定签名")

_MAX_DEPTH = 64
_MAX_TEXT = 1 * MIB  # one element's text (metadata, signature, certificate)
_MAX_ALL_TEXT = 32 * MIB  # all text outside 编码数据
_CHUNK = 1 << 16
_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_GB_ENCODINGS = {"gb2312", "gbk", "gb18030", "cp936", "gb_2312-80"}


@dataclass
class _Frame:
    local: str | None  # None: element of a foreign namespace
    text: list[str] = field(default_factory=list)
    text_size: int = 0
    children: list[tuple[str, Any]] = field(default_factory=list)


class EepHandler(handler.ContentHandler):
    """SAX events of one EEP → header, metadata tree, encodings and signatures."""

    def __init__(self, work: Path, budget: ByteBudget) -> None:
        super().__init__()
        self.work = work
        self.budget = budget
        self.text_total = 0  # characters outside 编码数据
        self.stack: list[_Frame] = []
        self.problems: list[Problem] = []
        self.entity_seen = False
        self.metadata_tree: list[tuple[str, Any]] = []
        self.encodings: list[Encoding] = []
        self.signatures: list[EepSignature] = []
        self.header: dict[str, str] = {}
        self._doc_role: str | None = None
        self._doc_index = 0
        self._enc: Encoding | None = None
        self._sink: Base64Sink | None = None
        self._sink_file: IO[bytes] | None = None

    # --- where we are ----------------------------------------------------------------------

    def _path(self) -> tuple[str | None, ...]:
        return tuple(f.local for f in self.stack)

    def _in_entity(self) -> bool:
        return self._path()[: len(_ENTITY_PATH)] == _ENTITY_PATH

    def _in_file_data(self) -> bool:
        path = self._path()
        return path[: len(_ENTITY_PATH)] == _ENTITY_PATH and "文件数据" in path[len(_ENTITY_PATH) :]

    # --- SAX events ------------------------------------------------------------------------

    def startElementNS(  # noqa: N802 (SAX API name)
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        uri, local_name = name
        local = local_name if uri in (NS, None, "") else None
        self._check_structure(local)
        self.stack.append(_Frame(local))
        path = self._path()
        if path == (ROOT, "被签名对象", "修改封装内容"):
            raise invalid(
                "package_xml",
                "eep_unsupported",
                "暂不接收修改型封装包（修改封装内容）",
                "modified packages (修改封装内容) are not accepted yet",
            )
        if path == _ENTITY_PATH:
            if self.entity_seen:
                raise invalid(
                    "文件实体",
                    "multiple_file_entities",
                    "文件实体块只能含一个文件实体",
                    "文件实体块 may hold only one 文件实体",
                )
            self.entity_seen = True
        if not self._in_file_data():
            return
        if local == "文档":
            self._doc_index += 1
            self._doc_role = None
        elif local == "编码":
            self._start_encoding()
        elif local == "编码数据" and self._enc is not None:
            self._start_payload(attrs)

    def _check_structure(self, local: str | None) -> None:
        """The root must be an EEP, and nesting is bounded."""
        if not self.stack and local != ROOT:
            raise invalid(
                "package_xml",
                "not_eep",
                "根元素不是 DA/T 48 电子文件封装包",
                "the root element is not a DA/T 48 电子文件封装包",
            )
        if len(self.stack) >= _MAX_DEPTH:
            raise invalid(
                "package_xml",
                "xml_too_deep",
                f"XML 嵌套超过 {_MAX_DEPTH} 层",
                f"the XML nests deeper than {_MAX_DEPTH} levels",
            )

    def _start_encoding(self) -> None:
        limits = self.budget.limits
        if len(self.encodings) >= limits.max_entries:
            raise invalid(
                "文件数据",
                "too_many_files",
                f"封装包含超过 {limits.max_entries} 个编码（计算机文件）",
                f"the package holds more than {limits.max_entries} 编码 (computer files)",
            )
        if self._doc_role is not None:
            role = self._doc_role
        else:
            # Without 文档主从声明 the first 文档 is the main one.
            role = ROLE_MAIN if self._doc_index <= 1 else ROLE_ATTACHMENT
        self._enc = Encoding(index=len(self.encodings) + 1, role=role)
        self.encodings.append(self._enc)

    def _start_payload(self, attrs: AttributesNSImpl) -> None:
        enc = self._enc
        assert enc is not None
        if attrs.get((None, "引用编码数据ID")):
            raise invalid(
                "编码数据",
                "eep_unsupported",
                "暂不接收引用其他编码数据的封装包",
                "packages whose 编码数据 refers to other 编码数据 are not accepted yet",
            )
        enc.reference = attrs.get((REF_NS, "引用"))
        enc.sha256 = attrs.get((REF_NS, "sha256"))
        enc.sm3 = attrs.get((REF_NS, "sm3"))
        if enc.temp is not None:
            raise invalid(
                f"编码[{enc.index}]",
                "multiple_file_data",
                "一个编码只能含一个编码数据",
                "one 编码 may hold only one 编码数据",
            )
        enc.temp = self.work / PARTIAL_DIR / str(enc.index)
        self._sink_file = enc.temp.open("xb")
        self._sink = Base64Sink(self._sink_file, f"编码[{enc.index}].编码数据", self.budget)

    def characters(self, content: str) -> None:
        if self._sink is not None:
            if self._enc is not None:
                self._enc.has_data = self._enc.has_data or bool(content.strip())
            self._sink.feed(content)
            return
        if not self.stack:
            return
        frame = self.stack[-1]
        frame.text_size += len(content)
        self.text_total += len(content)
        if frame.text_size > _MAX_TEXT:
            raise invalid(
                frame.local or "package_xml",
                "text_too_long",
                f"元素文本超过 {_MAX_TEXT} 个字符",
                f"an element's text exceeds {_MAX_TEXT} characters",
            )
        if self.text_total > _MAX_ALL_TEXT:
            raise invalid(
                "package_xml",
                "package_too_large",
                f"编码数据之外的文本超过 {_MAX_ALL_TEXT} 个字符",
                f"text outside 编码数据 exceeds {_MAX_ALL_TEXT} characters",
            )
        frame.text.append(content)

    def endElementNS(  # noqa: N802 (SAX API name)
        self, name: tuple[str | None, str], qname: str | None
    ) -> None:
        in_file_data = self._in_file_data()
        in_entity = self._in_entity()
        path = self._path()
        frame = self.stack.pop()
        text = "".join(frame.text).strip()
        local = frame.local
        if path[:2] == (ROOT, "被签名对象") and len(path) == 3 and local:
            self.header[local] = text
        if path in (_SIGNATURE_PATH, _LOCK_PATH):
            number = len(self.signatures) + 1
            kind = path[-1] or ""
            self.signatures.append(signature_from(kind, frame.children, number, self.problems))
            return
        if self.stack and (
            path[: len(_SIGNATURE_PATH)] == _SIGNATURE_PATH or path[: len(_LOCK_PATH)] == _LOCK_PATH
        ):
            self.stack[-1].children.append((local or "", frame.children or text))
            return
        if in_file_data:
            self._end_file_data(local, text)
            return
        if path == _ENTITY_PATH:
            self.metadata_tree = frame.children
            return
        if in_entity and local is not None and self.stack:
            self.stack[-1].children.append((local, frame.children or text))

    def _end_file_data(self, local: str | None, text: str) -> None:
        enc = self._enc
        if local == "文档主从声明":
            self._doc_role = {"主文档": ROLE_MAIN, "附属文档": ROLE_ATTACHMENT}.get(text)
        elif enc is None:
            return
        elif local == "计算机文件名":
            enc.name = text
        elif local == "计算机文件大小":
            enc.size_text = text
        elif local == "编码数据" and self._sink is not None:
            self._sink.finish()
            enc.written = self._sink.written
            self._sink = None
            self.close_sink()
        elif local == "编码":
            self._enc = None

    def close_sink(self) -> None:
        if self._sink_file is not None:
            self._sink_file.close()
            self._sink_file = None


def _text_decoder(head: bytes) -> codecs.IncrementalDecoder | None:
    """A GB-family declaration needs transcoding: expat reads only UTF-8/16 and Latin-1."""
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    m = _ENCODING_DECL.match(head)
    if m and m.group(1).decode("ascii").lower() in _GB_ENCODINGS:
        return codecs.getincrementaldecoder("gb18030")(errors="strict")
    return None


def parse_eep_xml(xml_path: Path, eep: EepHandler) -> None:
    """Stream `xml_path` through `eep`; the payload file in progress is closed in any case."""
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(handler.feature_namespaces, True)
    parser.setContentHandler(eep)
    try:
        with xml_path.open("rb") as fh:
            head = fh.read(_CHUNK)
            decoder = _text_decoder(head[:512])
            chunk = head
            while chunk:
                parser.feed(decoder.decode(chunk) if decoder else chunk)
                chunk = fh.read(_CHUNK)
            if decoder:
                parser.feed(decoder.decode(b"", final=True))
            parser.close()
    except DefusedXmlException:
        raise invalid(
            "package_xml",
            "unsafe_xml",
            "封装包含 DTD、实体或外部引用，已拒绝",
            "the package XML has a DTD, entities or external references; refused",
        ) from None
    except (SAXException, UnicodeDecodeError) as exc:
        raise invalid(
            "package_xml",
            "xml_malformed",
            f"封装包 XML 格式错误：{exc}",
            f"the package XML is malformed: {exc}",
        ) from None
    finally:
        eep.close_sink()
