"""LocalBlobStore on a real directory: atomic, durable, safe keys."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from dangan.core.errors import InvalidInputError, NotFoundError
from dangan.storage import BlobStore, LocalBlobStore
from dangan.storage.domain import TEMP_PREFIX


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "root", "primary")


def test_is_a_blob_store(store: LocalBlobStore) -> None:
    s: BlobStore = store
    assert s.name == "primary"


def test_put_get_overwrite_and_new_instance_reads(store: LocalBlobStore) -> None:
    store.put("案卷/关于印发办法的通知.pdf", b"one")
    store.put("案卷/关于印发办法的通知.pdf", b"two-two")
    assert store.get("案卷/关于印发办法的通知.pdf") == b"two-two"
    assert store.size("案卷/关于印发办法的通知.pdf") == 7
    again = LocalBlobStore(store.root, "primary")
    assert again.get("案卷/关于印发办法的通知.pdf") == b"two-two"
    assert not [p for p in store.root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_put_file_streams(store: LocalBlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    assert store.put_file("big/blob.bin", io.BytesIO(data)) == len(data)
    with store.open("big/blob.bin") as fh:
        assert fh.read() == data


def test_failed_write_keeps_old_value_and_no_temp(store: LocalBlobStore) -> None:
    store.put("k", b"old")

    class Boom(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise OSError("disk went away")
            return b"partial"

    with pytest.raises(OSError, match="disk went away"):
        store.put_file("k", Boom())  # type: ignore[arg-type]
    assert store.get("k") == b"old"
    assert list(store.list()) == ["k"]
    assert not [p for p in store.root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_missing_raises_blob_not_found(store: LocalBlobStore) -> None:
    with pytest.raises(NotFoundError) as exc:
        store.get("nope")
    assert exc.value.code == "blob_not_found"
    assert "primary" in exc.value.en
    with pytest.raises(NotFoundError) as exc:
        store.open("nope")
    assert exc.value.code == "blob_not_found"
    with pytest.raises(NotFoundError) as exc:
        store.size("nope")
    assert exc.value.code == "blob_not_found"
    store.put("dir/file", b"x")
    with pytest.raises(NotFoundError) as exc:
        store.get("dir")  # a directory is not a blob
    assert exc.value.code == "blob_not_found"
    assert not store.exists("nope")
    assert not store.exists("dir")


@pytest.mark.parametrize(
    "key", ["../escape", "/etc/passwd", "a/../../b", "a\\b", "", "a\x00b", "C:/x"]
)
def test_unsafe_keys_refused_everywhere(store: LocalBlobStore, key: str) -> None:
    for op in (
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(InvalidInputError):
            op()
    assert not (store.root.parent / "escape").exists()


def test_symlink_out_of_root_is_not_followed(store: LocalBlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s")
    (store.root / "link").symlink_to(outside)
    with pytest.raises(InvalidInputError):
        store.get("link/secret")
    with pytest.raises(InvalidInputError):
        store.put("link/new", b"x")
    assert not (outside / "new").exists()


def test_list_delete_and_prune(store: LocalBlobStore) -> None:
    store.put("a/b/c", b"1")
    store.put("a/d", b"2")
    store.put("e", b"3")
    (store.root / "a" / f"{TEMP_PREFIX}leftover").write_bytes(b"junk")
    assert sorted(store.list()) == ["a/b/c", "a/d", "e"]
    assert sorted(store.list("a")) == ["a/b/c", "a/d"]
    assert sorted(store.list("a/")) == ["a/b/c", "a/d"]
    assert list(store.list("missing")) == []
    store.delete("a/b/c")
    assert not (store.root / "a" / "b").exists()  # empty parent pruned
    store.delete("a/b/c")  # absent: no error
    assert store.sweep_temp_files() == 1
    assert sorted(store.list()) == ["a/d", "e"]


def test_sweep_prunes_directories_a_crash_left_empty(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "root", "r")
    store.put("keep/a.txt", b"a")
    orphan = tmp_path / "root" / "obj" / "v1" / "content"
    orphan.mkdir(parents=True)
    (orphan / ".dangan-tmp-123").write_bytes(b"half")
    assert store.sweep_temp_files() == 1
    assert not (tmp_path / "root" / "obj").exists()  # OCFL allows no empty directories
    assert store.get("keep/a.txt") == b"a"
    assert (tmp_path / "root").is_dir()
