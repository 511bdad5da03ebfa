"""Pure storage rules: key and name safety, the 0004 layout, inventory building."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from dangan.core.errors import IntegrityFailure, InvalidInputError
from dangan.storage.domain import (
    FileDigests,
    build_inventory,
    check_key,
    object_root_path,
    parse_sidecar,
    safe_logical_path,
    serialise_inventory,
    sidecar_bytes,
    state_of,
)

UNSAFE = [
    "",
    ".",
    "..",
    "../x",
    "a/..",
    "a/../../b",
    "../../etc/passwd",
    "a/./b",
    "./a",
    "/etc/passwd",
    "//server/share",
    "a//b",
    "a/",
    "a\\b",
    "..\\..\\windows\\system32",
    "C:/Windows",
    "c:evil",
    "a\x00b",
    "a\nb",
    "a\rb",
    "a\x1fb",
    "a\x7fb",
    "bad\u202etxt.exe",  # right-to-left override
    "x" * 256,
    "文" * 86,  # 258 bytes in UTF-8
    ".dangan-tmp-1234",
    "a/" * 600,
]


@pytest.mark.parametrize("key", UNSAFE)
def test_check_key_refuses_unsafe(key: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        check_key(key)
    assert exc.value.problems[0].code == "unsafe_path"
    assert exc.value.problems[0].field == "path"


@pytest.mark.parametrize("key", UNSAFE)
def test_safe_logical_path_refuses_unsafe(key: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        safe_logical_path(key)
    assert exc.value.problems[0].code == "unsafe_path"


@pytest.mark.parametrize(
    "name",
    [
        "关于印发办法的通知.pdf",
        "附件/图 1.png",
        "a/b/c.txt",
        ".hidden",
        "x" * 255,
        "文" * 85,
        "a..b",
    ],
)
def test_safe_names_pass(name: str) -> None:
    assert check_key(name) == name
    assert safe_logical_path(name) == name


def test_safe_logical_path_normalises_to_nfc() -> None:
    decomposed = "cafe\u0301.pdf"
    assert safe_logical_path(decomposed) == "caf\u00e9.pdf"


def test_layout_0004_matches_extension_example() -> None:
    # Examples from the 0004-hashed-n-tuple-storage-layout specification.
    assert (
        object_root_path("object-01")
        == "3c0/ff4/240/3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4"
    )
    assert (
        object_root_path("..hor/rib:le-$id")
        == "487/326/d8c/487326d8c2a3c0b885e23da1469b4d6671fd4e76978924b4443e9e3c316cda6d"
    )


def _d(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def test_inventory_two_versions_reference_unchanged_content() -> None:
    t = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    a, b = _d(b"a"), _d(b"b")
    v1 = build_inventory(
        object_id="o",
        previous=None,
        version=1,
        state={"a.pdf": a},
        new_content={"v1/content/a.pdf": a},
        fixity={},
        created=t,
        message="m",
        user_name="u",
        user_address=None,
    )
    assert v1["head"] == "v1"
    assert v1["digestAlgorithm"] == "sha512"
    assert v1["type"] == "https://ocfl.io/1.1/spec/#inventory"
    assert "fixity" not in v1
    assert v1["versions"]["v1"]["created"] == "2024-01-02T03:04:05.000000Z"
    v2 = build_inventory(
        object_id="o",
        previous=v1,
        version=2,
        state={"a.pdf": a, "b.pdf": b},
        new_content={"v2/content/b.pdf": b},
        fixity={"sha256": {"v2/content/b.pdf": hashlib.sha256(b"b").hexdigest()}},
        created=t,
        message="m2",
        user_name="u",
        user_address="mailto:u@example.org",
    )
    assert v2["manifest"][a] == ["v1/content/a.pdf"]
    assert state_of(v2) == {"a.pdf": a, "b.pdf": b}
    assert state_of(v2, "v1") == {"a.pdf": a}
    assert v1["versions"].keys() == {"v1"}  # previous not mutated
    body = serialise_inventory(v2)
    assert body == serialise_inventory(v2)
    assert parse_sidecar(sidecar_bytes(body)) == hashlib.sha512(body).hexdigest()


def test_inventory_refuses_gaps_and_missing_content() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    kw = {"fixity": {}, "created": t, "message": "", "user_name": "u", "user_address": None}
    with pytest.raises(InvalidInputError):
        build_inventory(object_id="o", previous=None, version=2, state={}, new_content={}, **kw)  # type: ignore[arg-type]
    with pytest.raises(IntegrityFailure) as exc:
        build_inventory(
            object_id="o",
            previous=None,
            version=1,
            state={"x": _d(b"x")},
            new_content={},
            **kw,  # type: ignore[arg-type]
        )
    assert exc.value.code == "content_missing"


def test_file_digests_validates_hex() -> None:
    with pytest.raises(InvalidInputError):
        FileDigests(sha512="00", sm3="0" * 64, size=1)
    with pytest.raises(InvalidInputError):
        FileDigests(sha512="0" * 128, sm3="Z" * 64, size=1)
    FileDigests(sha512="0" * 128, sm3="0" * 64, size=0)


def test_naive_times_are_utc() -> None:
    from dangan.storage.domain import utc_iso

    assert utc_iso(datetime(2024, 1, 1, 8)) == "2024-01-01T08:00:00.000000Z"
