"""Zipped BagIt bags become Submissions; also holds the bag fixture builder."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import bagit
import pytest

from dangan.core.errors import InvalidInputError
from dangan.crypto.sm import sm3
from dangan.interop.bagit_zip import BAG_DIR, read_bagit_zip
from dangan.records.domain import ROLE_ATTACHMENT, ROLE_MAIN

MAIN = "关于做好2024年档案工作的通知".encode() * 50
ATTACHMENT = "附件：名单\n".encode()
FILES = {"正文.pdf": MAIN, "附件/名单.txt": ATTACHMENT}
INFO = {
    "Title": "关于做好2024年档案工作的通知",
    "Source-Organization": "某市档案局",
    "External-Identifier": "OA-2024-001",
    "文种": "通知",
    "Contact-Name": "张三",
}


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def make_bag_dir(
    base: Path,
    files: dict[str, bytes] | None = None,
    *,
    info: dict[str, str] | None = None,
    checksums: tuple[str, ...] = ("sha256",),
) -> Path:
    """A valid bag folder (bagit library) holding `files` under data/."""
    bag_dir = base / "src-bag"
    for name, data in (FILES if files is None else files).items():
        path = bag_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    bagit.make_bag(str(bag_dir), dict(INFO if info is None else info), checksums=list(checksums))
    return bag_dir


def zip_dir(folder: Path, out: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return out


def make_bag_zip(base: Path, files: dict[str, bytes] | None = None, **kw: object) -> Path:
    return zip_dir(make_bag_dir(base, files, **kw), base / "bag.zip")  # type: ignore[arg-type]


def add_sm3_manifest(bag_dir: Path, files: dict[str, bytes]) -> None:
    lines = [f"{sm3_hex(data)}  data/{name}" for name, data in files.items()]
    (bag_dir / "manifest-sm3.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_bag_info_metadata_and_declared_sha256(tmp_path: Path) -> None:
    zpath = make_bag_zip(tmp_path)
    work = tmp_path / "work"
    sub = read_bagit_zip(zpath, work, source_system="oa", source_id=None)
    assert sub.source_system == "oa"
    assert sub.source_id == "OA-2024-001"  # External-Identifier
    assert sub.metadata == {
        "title": "关于做好2024年档案工作的通知",
        "author": "某市档案局",
        "document_type": "通知",
    }
    assert [f.name for f in sub.files] == ["正文.pdf", "附件/名单.txt"]
    for f in sub.files:
        data = FILES[f.name]
        assert f.path.read_bytes() == data
        assert f.declared_sha256 == hashlib.sha256(data).hexdigest()
        assert f.declared_sm3 is None
        assert f.role == ROLE_MAIN
        assert f.path.is_relative_to(work.resolve() / BAG_DIR)


def test_bag_in_a_top_folder_with_sm3_manifest(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path, checksums=("sha512",))
    add_sm3_manifest(bag_dir, FILES)
    zpath = zip_dir(bag_dir, tmp_path / "b.zip", prefix="mybag/")
    sub = read_bagit_zip(zpath, tmp_path / "w", source_system="oa", source_id="X-1")
    assert sub.source_id == "X-1"
    by_name = {f.name: f for f in sub.files}
    assert by_name["正文.pdf"].declared_sm3 == sm3_hex(MAIN)
    assert by_name["正文.pdf"].declared_sha256 is None  # only sha512 in the manifest


def test_envelope_metadata_json_as_tag_file(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    envelope = {
        "source_system": "oa",
        "source_id": "OA-9",
        "fonds": "J001",
        "metadata": {"题名": "信封中的题名", "责任者": "某市档案局"},
        "files": [
            {"name": "正文.pdf", "role": "main"},
            {"name": "附件/名单.txt", "role": "attachment", "sm3": sm3_hex(ATTACHMENT)},
        ],
    }
    (bag_dir / "metadata.json").write_text(json.dumps(envelope, ensure_ascii=False), "utf-8")
    bag = bagit.Bag(str(bag_dir))
    bag.save(manifests=True)  # lists metadata.json in the tag manifest
    sub = read_bagit_zip(zip_dir(bag_dir, tmp_path / "e.zip"), tmp_path / "w", source_system="oa")
    assert sub.source_id == "OA-9"
    assert sub.fonds == "J001"
    assert sub.metadata == {"题名": "信封中的题名", "责任者": "某市档案局"}
    assert [(f.name, f.role) for f in sub.files] == [
        ("正文.pdf", ROLE_MAIN),
        ("附件/名单.txt", ROLE_ATTACHMENT),
    ]
    assert sub.files[1].declared_sm3 == sm3_hex(ATTACHMENT)


def test_envelope_in_data_is_not_a_file(tmp_path: Path) -> None:
    envelope = {"metadata": {"title": "t"}, "source_id": "S-1"}
    files = {**FILES, "metadata.json": json.dumps(envelope).encode()}
    sub = read_bagit_zip(make_bag_zip(tmp_path, files), tmp_path / "w", source_system="oa")
    assert sub.metadata == {"title": "t"}
    assert sorted(f.name for f in sub.files) == ["正文.pdf", "附件/名单.txt"]


def test_envelope_problems_at_once(tmp_path: Path) -> None:
    envelope = {
        "source_system": "other",
        "metadata": {"title": "t"},
        "files": [
            {"name": "正文.pdf", "sha256": "0" * 64},
            {"name": "不存在.pdf"},
        ],
    }
    files = {**FILES, "metadata.json": json.dumps(envelope).encode()}
    work = tmp_path / "w"
    with pytest.raises(InvalidInputError) as exc:
        read_bagit_zip(make_bag_zip(tmp_path, files, info={}), work, source_system="oa")
    assert sorted(p.code for p in exc.value.problems) == [
        "digest_mismatch",
        "file_missing",
        "missing_source_id",
        "source_system_mismatch",
    ]
    assert list(work.iterdir()) == []


def test_both_metadata_files_is_ambiguous(tmp_path: Path) -> None:
    files = {**FILES, "metadata.json": b"{}"}
    bag_dir = make_bag_dir(tmp_path, files)
    (bag_dir / "metadata.json").write_text("{}", "utf-8")
    with pytest.raises(InvalidInputError) as exc:
        read_bagit_zip(zip_dir(bag_dir, tmp_path / "a.zip"), tmp_path / "w", source_system="oa")
    assert [p.code for p in exc.value.problems] == ["ambiguous_metadata"]


def test_sm3_only_manifest_is_not_enough(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    (bag_dir / "manifest-sha256.txt").unlink()
    (bag_dir / "tagmanifest-sha256.txt").unlink()
    add_sm3_manifest(bag_dir, FILES)
    with pytest.raises(InvalidInputError) as exc:
        read_bagit_zip(zip_dir(bag_dir, tmp_path / "a.zip"), tmp_path / "w", source_system="oa")
    assert [p.code for p in exc.value.problems] == ["missing_manifest"]


def test_payload_oxum_checked(tmp_path: Path) -> None:
    bag_dir = make_bag_dir(tmp_path)
    info = (bag_dir / "bag-info.txt").read_text("utf-8")
    (bag_dir / "bag-info.txt").write_text(
        "\n".join(
            "Payload-Oxum: 1.1" if line.startswith("Payload-Oxum") else line
            for line in info.splitlines()
        )
        + "\n",
        "utf-8",
    )
    (bag_dir / "tagmanifest-sha256.txt").unlink()
    with pytest.raises(InvalidInputError) as exc:
        read_bagit_zip(zip_dir(bag_dir, tmp_path / "a.zip"), tmp_path / "w", source_system="oa")
    assert [p.code for p in exc.value.problems] == ["oxum_mismatch"]
