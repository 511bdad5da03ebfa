"""Hostile packages over HTTP: each a clear 4xx problem, nothing archived, spool left empty."""

from __future__ import annotations

import io
import zipfile

import pytest

from dangan.bootstrap import Container
from tests.api.conftest import bearer, spool_entries
from tests.archive_kit import counts, stored_objects

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    '<电子文件封装包 xmlns="http://www.saac.gov.cn/standards/ERM/encapsulation">&lol2;'
    "</电子文件封装包>"
).encode()
XXE = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<电子文件封装包 xmlns="http://www.saac.gov.cn/standards/ERM/encapsulation">&x;'
    "</电子文件封装包>"
).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


ZIP_SLIP = _zip({"bag/bagit.txt": b"BagIt-Version: 1.0\n", "../../evil.txt": b"x"})
ZIP_BOMB = _zip({"bag/bagit.txt": b"BagIt-Version: 1.0\n", "bag/data/zeros.txt": b"0" * 50_000_000})


@pytest.mark.parametrize(
    ("content_type", "payload", "codes"),
    [
        ("application/xml", BILLION_LAUGHS, {"unsafe_xml"}),
        ("application/xml", XXE, {"unsafe_xml"}),
        ("application/xml", b"<not-closed", {"xml_malformed", "unsafe_xml"}),
        ("application/zip", ZIP_SLIP, {"unsafe_path"}),
        ("application/zip", ZIP_BOMB, {"zip_bomb"}),
        ("application/zip", b"PK\x03\x04truncated", {"not_a_zip", "corrupt_zip"}),
    ],
)
def test_hostile_package_is_refused(
    api: object,
    token: str,
    instance: Container,
    content_type: str,
    payload: bytes,
    codes: set[str],
) -> None:
    before = counts(instance)  # the token's creation is on the ledger already
    response = api.post(  # type: ignore[attr-defined]
        "/api/v1/submissions?source_id=EVIL-1",
        content=payload,
        headers={**bearer(token), "Content-Type": content_type},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    found = {problem.get("code")} | {p["code"] for p in problem.get("problems", [])}
    assert found & codes, problem
    assert problem["zh"]
    assert problem["en"]
    assert counts(instance) == before
    assert stored_objects(instance) == 0
    assert spool_entries(instance) == []
