"""Hostile EEP and BagIt packages: each is refused with a specific code, nothing escapes.

Every test reads through `_refused`, which checks the code and that nothing was written
outside the work folder (and that the work folder was emptied again).
"""

from __future__ import annotations

import base64
import io
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dangan.core.errors import InvalidInputError
from dangan.interop.bagit_zip import read_bagit_zip
from dangan.interop.eep import read_eep
from dangan.interop.limits import PackageLimits
from tests.unit.test_interop_bagit import FILES, make_bag_dir, zip_dir
from tests.unit.test_interop_eep import NS, b64, document, eep_xml

Reader = Callable[[Path, Path], object]


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _refused(
    tmp_path: Path,
    reader: Callable[..., object],
    package: Path,
    code: str,
    *,
    limits: PackageLimits | None = None,
) -> InvalidInputError:
    work = tmp_path / "sandbox" / "work"
    work.mkdir(parents=True)
    before = _tree(tmp_path)
    kw: dict[str, object] = {"source_system": "oa", "source_id": "X-1"}
    if limits is not None:
        kw["limits"] = limits
    with pytest.raises(InvalidInputError) as exc:
        reader(package, work, **kw)
    codes = [p.code for p in exc.value.problems]
    assert code in codes, exc.value
    assert _tree(tmp_path) == before, "something was written outside (or left inside) work"
    assert list(work.iterdir()) == []
    for escaped in ("evil.txt", "abs.txt", "x"):
        assert not (tmp_path / escaped).exists()
        assert not (tmp_path / "sandbox" / escaped).exists()
    assert not Path("/abs.txt").exists()
    return exc.value


# --- EEP -----------------------------------------------------------------------------------


def _eep(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "pkg.eep"
    path.write_bytes(data)
    return path


BILLION_LAUGHS = """<!DOCTYPE 电子文件封装包 [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"""


@pytest.mark.parametrize(
    ("prolog", "metadata"),
    [
        pytest.param(BILLION_LAUGHS, "<题名>&lol9;</题名>", id="billion-laughs"),
        pytest.param(
            '<!DOCTYPE 电子文件封装包 [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
            "<题名>&xxe;</题名>",
            id="xxe-file",
        ),
        pytest.param(
            '<!DOCTYPE 电子文件封装包 SYSTEM "http://127.0.0.1:1/eep.dtd">\n',
            "<题名>t</题名>",
            id="external-dtd-subset",
        ),
        pytest.param(
            '<!DOCTYPE 电子文件封装包 [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n',
            "<题名>t</题名>",
            id="parameter-entity",
        ),
    ],
)
def test_eep_unsafe_xml(tmp_path: Path, prolog: str, metadata: str) -> None:
    data = eep_xml(prolog=prolog, metadata=metadata)
    err = _refused(tmp_path, read_eep, _eep(tmp_path, data), "unsafe_xml")
    assert "root:" not in str(err)  # /etc/passwd never read into the message


def test_eep_path_traversal_name(tmp_path: Path) -> None:
    docs = document(1, "../../evil.txt", b64(b"evil")) + document(2, "/abs.txt", b64(b"x"))
    err = _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(docs)), "unsafe_path")
    assert [p.code for p in err.problems] == ["unsafe_path", "unsafe_path"]


def test_eep_oversized_base64_per_file(tmp_path: Path) -> None:
    docs = document(1, "big.bin", b64(bytes(3000)))
    limits = PackageLimits(max_file_bytes=1024)
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(docs)), "file_too_large", limits=limits)


def test_eep_oversized_base64_in_total(tmp_path: Path) -> None:
    docs = document(1, "a.bin", b64(bytes(800))) + document(2, "b.bin", b64(bytes(800)))
    limits = PackageLimits(max_total_bytes=1024, max_file_bytes=1000)
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(docs)), "package_too_large", limits=limits)


def test_eep_file_too_large_before_parsing(tmp_path: Path) -> None:
    docs = document(1, "a.bin", b64(bytes(4096)))
    limits = PackageLimits(max_total_bytes=3)  # the XML alone exceeds what it could decode to
    data = eep_xml(docs) + b" " * (64 << 20)
    _refused(tmp_path, read_eep, _eep(tmp_path, data), "package_too_large", limits=limits)


def test_eep_too_many_files(tmp_path: Path) -> None:
    docs = "".join(document(n, f"f{n}.txt", b64(b"x")) for n in range(1, 5))
    limits = PackageLimits(max_entries=3)
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(docs)), "too_many_files", limits=limits)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("not base64 !!!", id="garbage"),
        pytest.param("QUJD=QUJD", id="data-after-padding"),
        pytest.param("QUJDRA", id="truncated-quartet"),
        pytest.param("QUJD\u4e2dRA==", id="non-ascii"),
    ],
)
def test_eep_invalid_base64(tmp_path: Path, payload: str) -> None:
    docs = document(1, "a.bin", payload)
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(docs)), "invalid_base64")


def test_eep_invalid_base64_in_signature(tmp_path: Path) -> None:
    bad_sig = (
        "<电子签名块><电子签名><签名标识符>s1</签名标识符><签名结果>@@</签名结果>"
        "<证书块><证书>QUJD</证书></证书块><签名算法标识>SM2-SM3</签名算法标识>"
        "</电子签名></电子签名块>"
    )
    data = eep_xml(signatures=bad_sig)
    _refused(tmp_path, read_eep, _eep(tmp_path, data), "invalid_base64")


def test_eep_missing_file_entity(tmp_path: Path) -> None:
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(entity=False)), "missing_file_entity")


def test_eep_no_files(tmp_path: Path) -> None:
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(documents="")), "no_files")


def test_eep_wrong_root(tmp_path: Path) -> None:
    data = f'<?xml version="1.0"?><其他 xmlns="{NS}"/>'.encode()
    _refused(tmp_path, read_eep, _eep(tmp_path, data), "not_eep")


def test_eep_malformed(tmp_path: Path) -> None:
    data = eep_xml()[:-200]
    _refused(tmp_path, read_eep, _eep(tmp_path, data), "xml_malformed")


def test_eep_deep_nesting(tmp_path: Path) -> None:
    meta = "<a>" * 200 + "x" + "</a>" * 200
    _refused(tmp_path, read_eep, _eep(tmp_path, eep_xml(metadata=meta)), "xml_too_deep")


def test_eep_modified_package_refused(tmp_path: Path) -> None:
    data = eep_xml().replace("<封装内容>".encode(), "<修改封装内容><封装内容>".encode(), 1)
    _refused(tmp_path, read_eep, _eep(tmp_path, data), "eep_unsupported")


# --- zip / BagIt ---------------------------------------------------------------------------


def _zip(tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    """A zip of a valid bag plus `entries` (raw names, no sanitising)."""
    bag_dir = make_bag_dir(tmp_path)
    path = zip_dir(bag_dir, tmp_path / "attack.zip")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    "name",
    ["../../evil.txt", "data/../../evil.txt", "/abs.txt", "C:\\x", "C:/x", "data\\..\\evil.txt"],
)
def test_zip_slip(tmp_path: Path, name: str) -> None:
    _refused(tmp_path, read_bagit_zip, _zip(tmp_path, [(name, b"evil")]), "unsafe_path")


def test_zip_slip_reports_every_entry(tmp_path: Path) -> None:
    path = _zip(tmp_path, [("../../evil.txt", b"e"), ("/abs.txt", b"a")])
    err = _refused(tmp_path, read_bagit_zip, path, "unsafe_path")
    assert [p.code for p in err.problems] == ["unsafe_path", "unsafe_path"]


def test_symlink_entry(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("data/link")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    _refused(tmp_path, read_bagit_zip, _zip(tmp_path, [(info, b"/etc/passwd")]), "unsafe_path")


def test_duplicate_names(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _zip(tmp_path, [("data/正文.pdf", b"second")])
    _refused(tmp_path, read_bagit_zip, path, "duplicate_name")


def test_case_duplicate_names(tmp_path: Path) -> None:
    path = _zip(tmp_path, [("data/a.txt", b"1"), ("data/A.TXT", b"2")])
    _refused(tmp_path, read_bagit_zip, path, "duplicate_name")


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    path = _zip(tmp_path, [("data/zeros.bin", bytes(8 << 20))])  # ~1000:1
    err = _refused(tmp_path, read_bagit_zip, path, "zip_bomb")
    assert err.problems[0].field == "data/zeros.bin"


def test_zip_bomb_many_entries(tmp_path: Path) -> None:
    path = _zip(tmp_path, [(f"data/f{n}.txt", b"x") for n in range(20)])
    _refused(tmp_path, read_bagit_zip, path, "zip_bomb", limits=PackageLimits(max_entries=15))


def test_zip_bomb_declared_total(tmp_path: Path) -> None:
    path = _zip(tmp_path, [("data/a.bin", bytes(5000)), ("data/b.bin", bytes(5000))])
    limits = PackageLimits(max_total_bytes=8000)
    _refused(tmp_path, read_bagit_zip, path, "zip_bomb", limits=limits)


def test_zip_bomb_per_file(tmp_path: Path) -> None:
    path = _zip(tmp_path, [("data/a.bin", bytes(5000))])
    _refused(tmp_path, read_bagit_zip, path, "zip_bomb", limits=PackageLimits(max_file_bytes=4000))


def _patch_sizes(path: Path, name: str, new_size: int) -> None:
    """Make the headers of `name` lie about its uncompressed size."""
    raw = bytearray(path.read_bytes())
    encoded = name.encode()
    for sig, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        pos = raw.find(sig)
        while pos != -1:
            (length,) = struct.unpack_from("<H", raw, pos + name_len_at)
            if bytes(raw[pos + name_at : pos + name_at + length]) == encoded:
                struct.pack_into("<I", raw, pos + size_at, new_size)
            pos = raw.find(sig, pos + 4)
    path.write_bytes(bytes(raw))


def test_declared_size_lie_is_caught_while_extracting(tmp_path: Path) -> None:
    # Headers claim 100 bytes; the deflate stream holds 4 MiB. Extraction stops at the
    # declared size and the CRC no longer matches: refused, not written in full.
    path = _zip(tmp_path, [("data/liar.bin", bytes(4 << 20))])
    _patch_sizes(path, "data/liar.bin", 100)
    _refused(tmp_path, read_bagit_zip, path, "corrupt_zip")


def test_truncated_zip(tmp_path: Path) -> None:
    path = _zip(tmp_path, [])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _refused(tmp_path, read_bagit_zip, path, "corrupt_zip")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_text("这不是压缩包", "utf-8")
    _refused(tmp_path, read_bagit_zip, path, "not_a_zip")


def test_encrypted_or_exotic_compression_refused(tmp_path: Path) -> None:
    path = tmp_path / "bz.zip"
    bag_dir = make_bag_dir(tmp_path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        for p in sorted(bag_dir.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(bag_dir).as_posix())
    _refused(tmp_path, read_bagit_zip, path, "unsupported_zip")


def test_not_a_bag(tmp_path: Path) -> None:
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _refused(tmp_path, read_bagit_zip, path, "not_a_bag")


def test_wrong_manifest_digest_names_the_file(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    main = bag_dir / "data" / "正文.pdf"
    main.write_bytes(bytes(len(FILES["正文.pdf"])))  # same size, other bytes
    err = _refused(
        tmp_path, read_bagit_zip, zip_dir(bag_dir, tmp_path / "a.zip"), "digest_mismatch"
    )
    assert [p.field for p in err.problems] == ["data/正文.pdf"]


def test_file_missing_from_manifest(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    (bag_dir / "data" / "smuggled.txt").write_text("extra", "utf-8")
    err = _refused(
        tmp_path, read_bagit_zip, zip_dir(bag_dir, tmp_path / "a.zip"), "not_in_manifest"
    )
    assert [p.field for p in err.problems] == ["data/smuggled.txt"]


def test_file_in_manifest_but_missing(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    (bag_dir / "data" / "附件" / "名单.txt").unlink()
    _refused(tmp_path, read_bagit_zip, zip_dir(bag_dir, tmp_path / "a.zip"), "file_missing")


def test_manifest_path_traversal(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    with (bag_dir / "manifest-sha256.txt").open("a", encoding="utf-8") as fh:
        fh.write(f"{'0' * 64}  ../../evil.txt\n")
    (bag_dir / "tagmanifest-sha256.txt").unlink()
    _refused(tmp_path, read_bagit_zip, zip_dir(bag_dir, tmp_path / "a.zip"), "unsafe_path")


def test_fetch_txt_refused(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    (bag_dir / "fetch.txt").write_text("http://127.0.0.1:1/x 10 data/x.bin\n", "utf-8")
    _refused(tmp_path, read_bagit_zip, zip_dir(bag_dir, tmp_path / "a.zip"), "unsupported_bag")


def test_zip_in_memory_helpers_sane() -> None:
    # The attack builders must not themselves sanitise names.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil.txt", b"x")
    with zipfile.ZipFile(buf) as zf:
        assert zf.namelist() == ["../../evil.txt"]
    assert base64.b64decode(b64(b"abc")) == b"abc"
