"""A `BlobStore` on the local file system, with atomic and durable writes.

Every write goes to a temporary file in the target's directory, is fsynced, renamed over the
target with `os.replace` (atomic on POSIX), and the directory is fsynced so the new entry
survives a power cut. Readers therefore see either the old bytes or the new, never a mix.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dangan.core.errors import invalid
from dangan.storage.domain import TEMP_PREFIX, blob_not_found, check_key

_CHUNK = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """One storage root directory; keys are relative paths under it."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = Path(root).resolve()
        self.name = name
        self.root.mkdir(parents=True, exist_ok=True)
        self._safe_dirs: set[Path] = set()

    # --- paths ---

    def _path(self, key: str) -> Path:
        path = self.root / check_key(key)
        # A symlink inside the root must not lead out of it. Directories already resolved
        # inside the root are remembered (realpath costs a syscall per path component).
        parent = path.parent
        if parent not in self._safe_dirs:
            self._check_inside(key, Path(os.path.realpath(parent)))
            if parent.is_dir():
                self._safe_dirs.add(parent)
        if path.is_symlink():
            self._check_inside(key, Path(os.path.realpath(path)))
        return path

    def _check_inside(self, key: str, real: Path) -> None:
        if real != self.root and self.root not in real.parents:
            raise invalid(
                "path",
                "unsafe_path",
                f"路径经符号链接指向存储根目录之外：{key!r}",
                f"path leads out of the store root through a symlink: {key!r}",
            )

    def _makedirs(self, directory: Path) -> None:
        """Create missing parents, fsyncing each new entry's directory."""
        missing: list[Path] = []
        d = directory
        while not d.exists():
            missing.append(d)
            d = d.parent
        for d in reversed(missing):
            with contextlib.suppress(FileExistsError):
                d.mkdir()
            _fsync_dir(d.parent)

    # --- writes ---

    def put(self, key: str, data: bytes) -> None:
        self.put_file(key, io.BytesIO(data))

    def put_file(self, key: str, source: BinaryIO) -> int:
        target = self._path(key)
        self._makedirs(target.parent)
        tmp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        written = 0
        try:
            with open(tmp, "xb") as out:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        _fsync_dir(target.parent)
        return written

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        """Write several keys durably, in order of becoming visible; each directory is
        fsynced once (the ledger's copy writes its segment and latest checkpoint together)."""
        staged: list[tuple[Path, Path]] = []
        try:
            for key, data in items:
                target = self._path(key)
                self._makedirs(target.parent)
                tmp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
                with open(tmp, "xb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                staged.append((tmp, target))
            for tmp, target in staged:
                os.replace(tmp, target)
        except BaseException:
            for tmp, _ in staged:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            raise
        for directory in dict.fromkeys(target.parent for _, target in staged):
            _fsync_dir(directory)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        # Prune directories left empty, so staging leftovers do not linger (OCFL forbids
        # empty directories in a storage root).
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            self._safe_dirs.discard(parent)
            parent = parent.parent
        _fsync_dir(parent)

    def sweep_temp_files(self) -> int:
        """Remove temporary files a crash left behind, and directories left empty by that
        (OCFL allows no empty directories); returns how many files. Not while writes run."""
        count = 0
        for dirpath, _dirs, files in os.walk(self.root, topdown=False):
            for f in files:
                if f.startswith(TEMP_PREFIX):
                    Path(dirpath, f).unlink(missing_ok=True)
                    count += 1
            here = Path(dirpath)
            if here != self.root and not any(here.iterdir()):
                here.rmdir()
                self._safe_dirs.discard(here)
        return count

    # --- reads ---

    def get(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            if not path.is_file():
                raise FileNotFoundError(path)
            return open(path, "rb")
        except FileNotFoundError:
            raise blob_not_found(self.name, key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            if not path.is_file():
                raise FileNotFoundError(path)
            return path.stat().st_size
        except FileNotFoundError:
            raise blob_not_found(self.name, key) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under the directory `prefix` ('' for all), skipping temporary files."""
        prefix = prefix.strip("/")
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            yield prefix
            return
        if not base.is_dir():
            return
        for dirpath, dirs, files in os.walk(base):
            dirs.sort()
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for f in sorted(files):
                if f.startswith(TEMP_PREFIX):
                    continue
                yield f if rel_dir == "." else f"{rel_dir}/{f}"
