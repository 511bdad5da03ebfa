"""Size limits for submitted packages (EEP XML, BagIt zip): what a package may expand to."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from dangan.core.errors import InvalidInputError, Problem

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class PackageLimits:
    """Checked against the bytes actually written, never only against declared sizes."""

    max_total_bytes: int = 2 * GIB  # all extracted / decoded files together
    max_file_bytes: int = 512 * MIB  # any one file
    max_entries: int = 1000  # zip entries, or 编码 elements of an EEP
    max_ratio: int = 100  # uncompressed / compressed, per zip entry

    def __post_init__(self) -> None:
        for name in ("max_total_bytes", "max_file_bytes", "max_entries", "max_ratio"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


DEFAULT_LIMITS = PackageLimits()


def problem(field: str, code: str, zh: str, en: str) -> InvalidInputError:
    """One-problem `InvalidInputError`, the common case while reading a package."""
    return InvalidInputError.of([Problem(field, code, zh, en)])


def prepare_work_dir(work_dir: Path) -> Path:
    """The resolved `work_dir`, created if missing; it must be empty (a caller's bug if not)."""
    work = work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise ValueError(f"work_dir {work} must be empty")
    return work


def clear_work_dir(work: Path) -> None:
    """Remove everything a failed read left in `work` (never follows symlinks)."""
    for child in list(work.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()
