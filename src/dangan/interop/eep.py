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
"""

from __future__ import annotations

import binascii
import codecs
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.sax import SAXException, handler
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from dangan.core.errors import InvalidInputError, Problem
from dangan.interop.limits import (
    DEFAULT_LIMITS,
    MIB,
    PackageLimits,
    clear_work_dir,
    prepare_work_dir,
    problem,
)
from dangan.metadata.schema import MetadataSchema, ws_schema
from dangan.records.domain import ROLE_ATTACHMENT, ROLE_MAIN, IncomingFile, Submission
from dangan.storage.domain import safe_logical_path

NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
REF_NS = "urn:dangan:eep-reference:1"  # our own digest attributes (see storage.package_xml)

FILES_DIR = "files"
_PARTIAL_DIR = ".partial"
_ROOT = "电子文件封装包"
_ENTITY_PATH = (_ROOT, "被签名对象", "封装内容", "文件实体块", "文件实体")
_SIGNATURE_PATH = (_ROOT, "电子签名块", "电子签名")
_LOCK_PATH = (_ROOT, "锁定签名")
_FILE_ID = "文件标识符"

_MAX_DEPTH = 64
_MAX_TEXT = 1 * MIB  # one element's text (metadata, signature, certificate)
_MAX_ALL_TEXT = 32 * MIB  # all text outside 编码数据
_XML_SLACK = 64 * MIB  # XML overhead allowed on top of Base64-expanded payload
_CHUNK = 1 << 16
_B64_DROP = str.maketrans("", "", " \t\r\n")
_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_GB_ENCODINGS = {"gb2312", "gbk", "gb18030", "cp936", "gb_2312-80"}


@dataclass(frozen=True)
class EepSignature:
    """One 电子签名 or 锁定签名 as found (not verified)."""

    kind: str  # "电子签名" or "锁定签名"
    signature_id: str | None  # 签名标识符 (电子签名) or 被锁定签名标识符 (锁定签名)
    rule: str | None  # 签名规则
    time: str | None  # 签名时间
    signer: str | None  # 签名人
    algorithm: str | None  # 签名算法标识
    value: bytes  # 签名结果, Base64-decoded
    certificates: tuple[bytes, ...] = ()  # 证书块/证书, DER as decoded
    certificate_refs: tuple[str, ...] = ()  # 证书块/证书引证


@dataclass(frozen=True)
class EepPackage:
    submission: Submission
    signatures: list[EepSignature]
    package_type: str  # 封装包类型
    created: str  # 封装包创建时间
    creator: str  # 封装包创建单位


@dataclass
class _Frame:
    local: str | None  # None: element of a foreign namespace
    text: list[str] = field(default_factory=list)
    text_size: int = 0
    children: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class _Encoding:
    index: int
    role: str
    name: str = ""
    size_text: str = ""
    temp: Path | None = None
    written: int = 0
    has_data: bool = False
    reference: str | None = None
    sha256: str | None = None
    sm3: str | None = None


@dataclass
class _Budget:
    limits: PackageLimits
    total: int = 0
    text: int = 0


class _Base64Sink:
    """Decodes Base64 text as it arrives and writes the bytes, within the limits."""

    def __init__(self, out: IO[bytes], field_name: str, budget: _Budget) -> None:
        self._out = out
        self._field = field_name
        self._budget = budget
        self._pending = ""
        self._padded = False
        self.written = 0

    def _invalid(self, why_zh: str, why_en: str) -> InvalidInputError:
        return problem(
            self._field,
            "invalid_base64",
            f"编码数据不是有效的 Base64：{why_zh}",
            f"编码数据 is not valid Base64: {why_en}",
        )

    def feed(self, text: str) -> None:
        clean = text.translate(_B64_DROP)
        if not clean:
            return
        if self._padded:
            raise self._invalid("填充符 = 之后仍有数据", "data after the = padding")
        self._pending += clean
        cut = len(self._pending) // 4 * 4
        if cut:
            chunk, self._pending = self._pending[:cut], self._pending[cut:]
            self._decode(chunk)

    def _decode(self, chunk: str) -> None:
        try:
            data = binascii.a2b_base64(chunk.encode("ascii"), strict_mode=True)
        except UnicodeEncodeError:
            raise self._invalid("含非 ASCII 字符", "non-ASCII characters") from None
        except binascii.Error as exc:
            raise self._invalid(str(exc), str(exc)) from None
        self._padded = chunk.endswith("=")
        limits = self._budget.limits
        if self.written + len(data) > limits.max_file_bytes:
            raise problem(
                self._field,
                "file_too_large",
                f"文件解码后超过 {limits.max_file_bytes} 字节",
                f"the decoded file exceeds {limits.max_file_bytes} bytes",
            )
        if self._budget.total + len(data) > limits.max_total_bytes:
            raise problem(
                self._field,
                "package_too_large",
                f"封装包解码后的文件合计超过 {limits.max_total_bytes} 字节",
                f"the package's decoded files exceed {limits.max_total_bytes} bytes in total",
            )
        self.written += len(data)
        self._budget.total += len(data)
        self._out.write(data)

    def finish(self) -> None:
        if self._pending:
            raise self._invalid("长度不是 4 的倍数", "length is not a multiple of 4")


def _b64_value(text: str, field_name: str, problems: list[Problem]) -> bytes:
    clean = text.translate(_B64_DROP)
    try:
        return binascii.a2b_base64(clean.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        problems.append(
            Problem(field_name, "invalid_base64", "不是有效的 Base64", "is not valid Base64")
        )
        return b""


class _EepHandler(handler.ContentHandler):
    def __init__(self, work: Path, budget: _Budget) -> None:
        super().__init__()
        self.work = work
        self.budget = budget
        self.stack: list[_Frame] = []
        self.problems: list[Problem] = []
        self.seen_root = False
        self.entity_seen = False
        self.metadata_tree: list[tuple[str, Any]] = []
        self.encodings: list[_Encoding] = []
        self.signatures: list[EepSignature] = []
        self.header: dict[str, str] = {}
        self._doc_count = 0
        self._doc_role: str | None = None
        self._doc_index = 0
        self._enc: _Encoding | None = None
        self._sink: _Base64Sink | None = None
        self._sink_file: IO[bytes] | None = None

    # --- helpers ---------------------------------------------------------------------------

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
        if not self.stack:
            if local != _ROOT:
                raise problem(
                    "package_xml",
                    "not_eep",
                    "根元素不是 DA/T 48 电子文件封装包",
                    "the root element is not a DA/T 48 电子文件封装包",
                )
            self.seen_root = True
        if len(self.stack) >= _MAX_DEPTH:
            raise problem(
                "package_xml",
                "xml_too_deep",
                f"XML 嵌套超过 {_MAX_DEPTH} 层",
                f"the XML nests deeper than {_MAX_DEPTH} levels",
            )
        self.stack.append(_Frame(local))
        path = self._path()
        if path == (_ROOT, "被签名对象", "修改封装内容"):
            raise problem(
                "package_xml",
                "eep_unsupported",
                "暂不接收修改型封装包（修改封装内容）",
                "modified packages (修改封装内容) are not accepted yet",
            )
        if path == _ENTITY_PATH:
            if self.entity_seen:
                raise problem(
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

    def _start_encoding(self) -> None:
        limits = self.budget.limits
        if len(self.encodings) >= limits.max_entries:
            raise problem(
                "文件数据",
                "too_many_files",
                f"封装包含超过 {limits.max_entries} 个编码（计算机文件）",
                f"the package holds more than {limits.max_entries} 编码 (computer files)",
            )
        if self._doc_role is not None:
            role = self._doc_role
        else:
            role = ROLE_MAIN if self._doc_index <= 1 else ROLE_ATTACHMENT
        self._enc = _Encoding(index=len(self.encodings) + 1, role=role)
        self.encodings.append(self._enc)

    def _start_payload(self, attrs: AttributesNSImpl) -> None:
        enc = self._enc
        assert enc is not None
        if attrs.get((None, "引用编码数据ID")):
            raise problem(
                "编码数据",
                "eep_unsupported",
                "暂不接收引用其他编码数据的封装包",
                "packages whose 编码数据 refers to other 编码数据 are not accepted yet",
            )
        enc.reference = attrs.get((REF_NS, "引用"))
        enc.sha256 = attrs.get((REF_NS, "sha256"))
        enc.sm3 = attrs.get((REF_NS, "sm3"))
        if enc.temp is not None:
            raise problem(
                f"编码[{enc.index}]",
                "multiple_file_data",
                "一个编码只能含一个编码数据",
                "one 编码 may hold only one 编码数据",
            )
        enc.temp = self.work / _PARTIAL_DIR / str(enc.index)
        self._sink_file = enc.temp.open("xb")
        self._sink = _Base64Sink(self._sink_file, f"编码[{enc.index}].编码数据", self.budget)

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
        self.budget.text += len(content)
        if frame.text_size > _MAX_TEXT:
            raise problem(
                frame.local or "package_xml",
                "text_too_long",
                f"元素文本超过 {_MAX_TEXT} 个字符",
                f"an element's text exceeds {_MAX_TEXT} characters",
            )
        if self.budget.text > _MAX_ALL_TEXT:
            raise problem(
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
        if path[:2] == (_ROOT, "被签名对象") and len(path) == 3 and local:
            self.header[local] = text
        if path in (_SIGNATURE_PATH, _LOCK_PATH):
            self._add_signature(path[-1] or "", frame)
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
            if self._sink_file is not None:
                self._sink_file.close()
                self._sink_file = None
        elif local == "编码":
            self._enc = None

    def _add_signature(self, kind: str, frame: _Frame) -> None:
        values: dict[str, str] = {}
        certs: list[bytes] = []
        refs: list[str] = []
        for child, value in frame.children:
            if child == "证书块" and isinstance(value, list):
                for sub, sub_value in value:
                    if sub == "证书" and isinstance(sub_value, str):
                        where = f"{kind}[{len(self.signatures) + 1}].证书"
                        certs.append(_b64_value(sub_value, where, self.problems))
                    elif sub == "证书引证" and isinstance(sub_value, str):
                        refs.append(sub_value)
            elif isinstance(value, str):
                values[child] = value
        where = f"{kind}[{len(self.signatures) + 1}].签名结果"
        self.signatures.append(
            EepSignature(
                kind=kind,
                signature_id=values.get("签名标识符") or values.get("被锁定签名标识符"),
                rule=values.get("签名规则"),
                time=values.get("签名时间"),
                signer=values.get("签名人"),
                algorithm=values.get("签名算法标识"),
                value=_b64_value(values.get("签名结果", ""), where, self.problems),
                certificates=tuple(certs),
                certificate_refs=tuple(refs),
            )
        )

    def close_sink(self) -> None:
        if self._sink_file is not None:
            self._sink_file.close()
            self._sink_file = None


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


def _finish_files(
    work: Path, encodings: list[_Encoding], problems: list[Problem]
) -> list[IncomingFile]:
    files: list[IncomingFile] = []
    seen: dict[str, str] = {}
    for enc in encodings:
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
            continue
        try:
            name = safe_logical_path(enc.name)
        except InvalidInputError as exc:
            problems.extend(
                Problem(f"{where}.计算机文件名", p.code, p.zh, p.en) for p in exc.problems
            )
            continue
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
            continue
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in seen:
            problems.append(
                Problem(
                    f"{where}.计算机文件名",
                    "duplicate_name",
                    f"文件名 {name} 与 {seen[folded]} 重复",
                    f"file name {name!r} duplicates {seen[folded]!r}",
                )
            )
            continue
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
    return files


def _text_decoder(head: bytes) -> codecs.IncrementalDecoder | None:
    """A GB-family declaration needs transcoding: expat reads only UTF-8/16 and Latin-1."""
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    m = _ENCODING_DECL.match(head)
    if m and m.group(1).decode("ascii").lower() in _GB_ENCODINGS:
        return codecs.getincrementaldecoder("gb18030")(errors="strict")
    return None


def _parse(xml_path: Path, eep: _EepHandler) -> None:
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
        raise problem(
            "package_xml",
            "unsafe_xml",
            "封装包含 DTD、实体或外部引用，已拒绝",
            "the package XML has a DTD, entities or external references; refused",
        ) from None
    except (SAXException, UnicodeDecodeError) as exc:
        raise problem(
            "package_xml",
            "xml_malformed",
            f"封装包 XML 格式错误：{exc}",
            f"the package XML is malformed: {exc}",
        ) from None
    finally:
        eep.close_sink()


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
    work = prepare_work_dir(work_dir)
    try:
        return _read(xml_path, work, source_system, source_id, limits)
    except BaseException:
        clear_work_dir(work)
        raise


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
    try:
        size = xml_path.stat().st_size
    except OSError as exc:
        raise problem(
            "package_xml", "not_found", f"无法读取封装包：{exc}", f"cannot read the package: {exc}"
        ) from None
    if size > limits.max_total_bytes // 3 * 4 + _XML_SLACK:
        raise problem(
            "package_xml",
            "package_too_large",
            f"封装包文件过大（{size} 字节）",
            f"the package file is too large ({size} bytes)",
        )
    (work / _PARTIAL_DIR).mkdir()
    (work / FILES_DIR).mkdir()
    eep = _EepHandler(work, _Budget(limits))
    _parse(xml_path, eep)
    if not eep.entity_seen:
        raise problem(
            "文件实体",
            "missing_file_entity",
            "封装包缺少 被签名对象/封装内容/文件实体块/文件实体",
            "the package lacks 被签名对象/封装内容/文件实体块/文件实体",
        )
    problems = list(eep.problems)
    metadata: dict[str, Any] = {}
    _flatten(eep.metadata_tree, ws_schema(), metadata)
    file_id = metadata.pop(_FILE_ID, None)
    files = _finish_files(work, eep.encodings, problems)
    if not eep.encodings:
        problems.append(
            Problem(
                "文件数据",
                "no_files",
                "文件实体不含任何编码（计算机文件）",
                "文件实体 holds no 编码 (computer file)",
            )
        )
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
    if problems:
        raise InvalidInputError.of(problems)
    shutil.rmtree(work / _PARTIAL_DIR)
    assert found_id is not None
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


def _first_text(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() or None if isinstance(value, str) else None


__all__ = [
    "FILES_DIR",
    "EepPackage",
    "EepSignature",
    "read_eep",
    "read_eep_package",
]
