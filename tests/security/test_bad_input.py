"""Bad input gets a specific error (field, code, zh and en) and changes nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dangan.bootstrap import Container
from dangan.core.errors import InvalidInputError, MalformedInputError
from dangan.interop.bagit_zip import read_bagit_zip
from dangan.interop.envelope import folder_submissions, read_envelope, submission_from
from dangan.records.domain import IncomingFile, Submission
from tests.archive_kit import (
    NOTICE,
    counts,
    find,
    ingest,
    new_instance,
    notice,
    stored_objects,
    write_doc,
)
from tests.unit.test_interop_bagit import FILES, make_bag_zip


@pytest.fixture
def archive(tmp_path: Path, db_url: str) -> Iterator[Container]:
    c = new_instance(
        tmp_path / "inst", db_url, storage={"max_file_bytes": 4096, "roots": ["r1", "r2"]}
    )
    yield c
    c.close()


def _sub(path: Path, name: str | None = None, **kw: object) -> Submission:
    meta = {**NOTICE, **kw.pop("meta", {})}  # type: ignore[dict-item]
    return Submission("oa", "OA-bad", meta, [IncomingFile(path, name or path.name, **kw)])  # type: ignore[arg-type]


def _rejected(c: Container, sub: Submission) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as exc:
        ingest(c, sub)
    err = exc.value
    assert err.problems, "a rejection names its problems"
    for p in err.problems:
        assert p.field
        assert p.code
        assert p.zh
        assert p.en
    assert counts(c) == (0, 0), "nothing written to the catalogue or ledger"
    assert stored_objects(c) == 0, "nothing written to storage"
    return err


def _codes(err: InvalidInputError) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in err.problems}


def test_every_metadata_problem_reported_at_once(archive: Container, tmp_path: Path) -> None:
    path = write_doc(tmp_path, "a.txt", "正文")
    meta = {"date": "2024-13-45", "security_classification": "超级机密", "颜色": "红"}
    sub = Submission("oa", "x", meta, [IncomingFile(path, "a.txt")])
    codes = _codes(_rejected(archive, sub))
    assert {
        ("title", "missing_mandatory"),
        ("author", "missing_mandatory"),
        ("date", "bad_date"),
        ("security_classification", "unknown_value"),
        ("颜色", "unknown_field"),
    } <= codes


def test_invisible_characters_are_refused_on_every_intake_path(
    archive: Container, tmp_path: Path
) -> None:
    """An envelope as `dangan ingest` reads it, and a BagIt package: the same validation."""
    doc = write_doc(tmp_path, "正文.txt", "正文")
    envelope = tmp_path / "env.json"
    meta = {**NOTICE, "author": ["示范省应急管理厅", "\u2066示范省财政厅\u2069"]}
    envelope.write_text(json.dumps({"metadata": meta}), encoding="utf-8")  # escaped: \u2066
    sub = submission_from(read_envelope(envelope), tmp_path, "oa", "OA-1", [doc])
    err = _rejected(archive, sub)
    assert _codes(err) == {("author[1]", "invisible_character")}
    assert "U+2066" in err.problems[0].zh
    info = {"Title": "关于\u202e开展检查的通知", "Source-Organization": "某市档案局"}
    bag = make_bag_zip(tmp_path / "bag", info={**info, "External-Identifier": "OA-2"})
    packaged = read_bagit_zip(bag, tmp_path / "work", source_system="oa", source_id=None)
    err = _rejected(archive, packaged)
    assert _codes(err) >= {("title", "invisible_character")}
    assert "U+202E" in next(p.en for p in err.problems if p.field == "title")


def test_unknown_value_lists_allowed_values(archive: Container, tmp_path: Path) -> None:
    path = write_doc(tmp_path, "a.txt", "正文")
    err = _rejected(archive, _sub(path, meta={"document_type": "便条"}))
    problem = next(p for p in err.problems if p.field == "document_type")
    assert problem.code == "unknown_value"
    assert "通知" in problem.zh


def test_wrong_declared_digest(archive: Container, tmp_path: Path) -> None:
    path = write_doc(tmp_path, "a.txt", "正文")
    err = _rejected(archive, _sub(path, declared_sm3="00" * 32))
    assert ("files[0].sm3", "digest_mismatch") in _codes(err)


def test_empty_file(archive: Container, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert ("files[0]", "empty_file") in _codes(_rejected(archive, _sub(path)))


def test_file_over_size_limit(archive: Container, tmp_path: Path) -> None:
    path = write_doc(tmp_path, "big.txt", "档" * 5000)
    assert ("files[0]", "file_too_large") in _codes(_rejected(archive, _sub(path)))


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "a/../../b.txt", "..", "C:\\x.txt", "a\x00b.txt"]
)
def test_path_traversal_in_file_names(archive: Container, tmp_path: Path, name: str) -> None:
    path = write_doc(tmp_path, "a.txt", "正文")
    err = _rejected(archive, _sub(path, name=name))
    assert all(p.field == "files[0].name" for p in err.problems)
    assert "unsafe_path" in {p.code for p in err.problems}


def test_control_characters_in_metadata(archive: Container, tmp_path: Path) -> None:
    path = write_doc(tmp_path, "a.txt", "正文")
    err = _rejected(archive, _sub(path, meta={"title": "通知\x00\x07", "author": "\ud800"}))
    assert {("title", "invalid_characters"), ("author", "invalid_characters")} <= _codes(err)


def _docx_with(document_xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("word/document.xml", document_xml)
    return buf.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><w:document>&lol2;</w:document>'
)
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (lambda: _docx_with(BILLION_LAUGHS), "unsafe_xml"),
        (lambda: _docx_with(EXTERNAL), "unsafe_xml"),
        (lambda: _docx_with(b"<w:document>" + b" " * 3_000_000 + b"</w:document>"), "zip_bomb"),
    ],
)
def test_xml_entities_and_zip_bombs(
    tmp_path: Path, db_url: str, payload: Callable[[], bytes], code: str
) -> None:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        path = tmp_path / "evil.docx"
        path.write_bytes(payload())
        assert code in {p.code for p in _rejected(c, _sub(path)).problems}
    finally:
        c.close()


def test_invalid_utf8_metadata_file(tmp_path: Path) -> None:
    bad = tmp_path / "meta.json"
    bad.write_bytes(b'{"title": "\xff\xfe\xb0"}')
    with pytest.raises(InvalidInputError) as exc:
        read_envelope(bad)
    assert exc.value.problems[0].code == "invalid_utf8"


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_metadata_files_are_refused_before_parsing(tmp_path: Path, depth: int) -> None:
    """The CLI's envelopes and a bag's metadata.json: `json_too_deep`, the folder goes on."""
    deep = b'{"source_id": "OA-1", "metadata": {"author": ' + b"[" * depth + b"]" * depth + b"}}"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_bytes(deep)
    (folder / "b.json").write_text('{"title": "t"}', encoding="utf-8")
    with pytest.raises(MalformedInputError) as exc:
        read_envelope(folder / "a.json")
    assert [(p.field, p.code) for p in exc.value.problems] == [("metadata", "json_too_deep")]
    [(_, refused), (_, read)] = folder_submissions(folder, "oa")
    assert isinstance(refused, MalformedInputError)
    assert isinstance(read, Submission)
    bag = make_bag_zip(tmp_path, {**FILES, "metadata.json": deep})
    with pytest.raises(MalformedInputError) as exc:
        read_bagit_zip(bag, tmp_path / "work", source_system="oa")
    assert exc.value.code == "json_too_deep"


def test_cli_reports_bad_metadata_and_writes_nothing(tmp_path: Path) -> None:
    env = {"DANGAN_DATA_DIR": str(tmp_path / "inst"), "PATH": "/usr/bin:/bin"}
    dangan = [sys.executable, "-m", "dangan.cli.main"]
    subprocess.run([*dangan, "init"], env=env, check=True, capture_output=True)
    doc = write_doc(tmp_path, "a.txt", "正文")
    bad = tmp_path / "meta.json"
    bad.write_bytes(b'{"title": "\xff"}')
    out = subprocess.run(
        [*dangan, "ingest", str(doc), "-m", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "invalid_utf8" in out.stderr
    assert "UTF-8" in out.stderr
    assert "Traceback" not in out.stderr
    roots = list((tmp_path / "inst" / "roots").rglob("*.txt"))
    assert roots == []


@pytest.mark.parametrize(
    "query", ['" OR 1=1 --', "title:*", "NEAR(安全", "'; DROP TABLE records; --", '"""', "*"]
)
def test_search_injection_is_harmless(archive: Container, tmp_path: Path, query: str) -> None:
    ingest(archive, notice(tmp_path / "in", 1))
    page = find(archive, query)
    assert page["total"] == len(page["hits"]) == 0
    assert find(archive, "安全生产")["total"] == 1  # the table is still there
