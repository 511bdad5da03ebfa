"""What every package reader (EEP, BagIt zip) does the same way to stay safe.

- It writes only into a work directory that starts empty and is emptied again on any
  failure, so a refused package leaves nothing behind (`read_in_work_dir`).
- Every name a package gives a file goes through `safe_logical_path` (no `..`, absolute
  paths, drive letters, back-slashes, controls → `unsafe_path`), its problems reported
  against the package's own field (`checked_name`).
- Names that differ only in case or Unicode composition are one name on many file systems,
  so duplicates are found on `fold_name`.
"""

from __future__ import annotations

import contextlib
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.storage.domain import safe_logical_path

_T = TypeVar("_T")


def prepare_work_dir(work_dir: Path) -> Path:
    """The resolved `work_dir`, created if missing; it must be empty (a caller's bug if not)."""
    work = work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise invalid(
            "work_dir",
            "work_dir_not_empty",
            f"工作目录 {work} 须为空",
            f"work_dir {work} must be empty",
        )
    return work


def clear_work_dir(work: Path) -> None:
    """Remove everything a failed read left in `work` (never follows symlinks)."""
    for child in list(work.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()


def read_in_work_dir(work_dir: Path, read: Callable[[Path], _T]) -> _T:
    """`read(work)` on the prepared, empty `work_dir`; on any failure `work_dir` is emptied."""
    work = prepare_work_dir(work_dir)
    try:
        return read(work)
    except BaseException:
        clear_work_dir(work)
        raise


def checked_name(raw: str, field: str, problems: list[Problem]) -> str | None:
    """`raw` as a safe logical path, or None with its problems added under `field`."""
    try:
        return safe_logical_path(raw)
    except InvalidInputError as exc:
        problems.extend(Problem(field, p.code, p.zh, p.en) for p in exc.problems)
        return None


def fold_name(name: str) -> str:
    """The form in which two names count as the same file (NFC, then case-folded)."""
    return unicodedata.normalize("NFC", name).casefold()
