"""The worked examples of docs/packages.md, built from the page's text, are archived as shown."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dangan.bootstrap import Container
from dangan.interop import read_bagit_zip, read_eep
from tests.archive_kit import ingest, new_instance
from tests.docs.doc_blocks import PACKAGES, build_bag, build_eep, files_of

TEXT = PACKAGES.read_text(encoding="utf-8")


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Container]:
    c = new_instance(tmp_path / "inst", f"sqlite:///{tmp_path / 'dangan.db'}")
    yield c
    c.close()


def _documented(receipt: dict[str, Any]) -> None:
    """The page shows this receipt: status, archival code and each file's facts."""
    assert receipt["status"] == "archived"
    assert f'"archival_code": "{receipt["archival_code"]}"' in TEXT, receipt["archival_code"]
    for f in receipt["files"]:
        shown = f'"name": "{f["name"]}", "size": {f["size"]}, "sm3": "…", "sha256": "{f["sha256"]}"'
        assert shown in TEXT, f"docs/packages.md does not show the file as archived: {f}"
        assert f'"format": "{f["format"]}"' in TEXT


def test_eep_example_is_archived(tmp_path: Path, instance: Container) -> None:
    package = build_eep(tmp_path / "eep")
    sub = read_eep(package, tmp_path / "work", source_system="oa")
    assert sub.source_id == "OA-2024-002"  # from 电子文件号, as the page says
    # The Base64 in the XML is exactly the 正文.txt shown on the page.
    main = files_of(PACKAGES, "eep")["正文.txt"].content
    assert [f.name for f in sub.files] == ["正文.txt"]
    assert sub.files[0].path.read_bytes() == main
    xml = package.read_text(encoding="utf-8")
    payload = re.search(r"<编码数据[^>]*>(.*?)</编码数据>", xml, re.S)
    assert payload is not None
    assert base64.b64decode("".join(payload[1].split())) == main
    receipt = ingest(instance, sub)
    _documented(receipt)


def test_bagit_example_is_archived(tmp_path: Path, instance: Container) -> None:
    bag = build_bag(tmp_path / "bag")
    sub = read_bagit_zip(bag, tmp_path / "work", source_system="oa")
    assert sub.source_id == "OA-2024-003"
    assert [(f.name, f.role) for f in sub.files] == [
        ("正文.txt", "main"),
        ("附件/数字化工作规范.txt", "attachment"),
    ]
    assert all(f.declared_sha256 for f in sub.files)  # from manifest-sha256.txt
    receipt = ingest(instance, sub)
    _documented(receipt)
    assert receipt["archival_code"].startswith("Z109-WS·2024-Y-")


def test_bagit_example_source_id_from_the_query_wins(tmp_path: Path) -> None:
    bag = build_bag(tmp_path / "bag")
    sub = read_bagit_zip(bag, tmp_path / "work", source_system="oa", source_id="BAG-1")
    assert sub.source_id == "BAG-1"


def test_every_file_block_belongs_to_an_example() -> None:
    names = {*files_of(PACKAGES, "eep"), *files_of(PACKAGES, "bag")}
    assert "OA-2024-002.xml" in names
    assert {
        "oa-2024-003/bagit.txt",
        "oa-2024-003/bag-info.txt",
        "oa-2024-003/manifest-sha256.txt",
        "oa-2024-003/metadata.json",
        "oa-2024-003/data/正文.txt",
        "oa-2024-003/data/附件/数字化工作规范.txt",
    } <= names
