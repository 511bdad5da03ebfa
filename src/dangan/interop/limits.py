"""Size limits for submitted packages (EEP XML, BagIt zip): what a package may expand to.

Limits are checked against the bytes actually written, never only against declared sizes: a
header or a 计算机文件大小 that lies cannot slip past. `ByteBudget` is that count, shared by
every file of one package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dangan.core.errors import ConfigurationError

GIB = 1 << 30
MIB = 1 << 20
# A small file may compress extremely well (a page of blanks); the ratio limit applies above this.
RATIO_FLOOR = 1 * MIB


@dataclass(frozen=True)
class PackageLimits:
    """Checked against the bytes actually written, never only against declared sizes."""

    max_total_bytes: int = 2 * GIB  # all extracted / decoded files together
    max_file_bytes: int = 512 * MIB  # any one file
    max_entries: int = 1000  # zip entries, or 编码 elements of an EEP
    max_ratio: int = 100  # uncompressed / compressed, per zip entry

    def __post_init__(self) -> None:
        for name in ("max_total_bytes", "max_file_bytes", "max_entries", "max_ratio"):
            value = getattr(self, name)
            if value <= 0:
                raise ConfigurationError(
                    code="invalid_package_limit",
                    zh=f"封装包限制 {name} 须为正数（现为 {value}）",
                    en=f"the package limit {name} must be positive (is {value})",
                )


DEFAULT_LIMITS = PackageLimits()


def over_ratio(size: int, compressed: int, limits: PackageLimits) -> bool:
    """Whether `size` bytes from `compressed` bytes break the compression-ratio limit."""
    return size > RATIO_FLOOR and size > limits.max_ratio * max(compressed, 1)


@dataclass
class ByteBudget:
    """The bytes one package has written so far, counted against its limits."""

    limits: PackageLimits
    total: int = 0

    def take(self, file_bytes: int, more: int) -> Literal["file", "total"] | None:
        """Count `more` bytes for a file that holds `file_bytes` so far.

        Returns the limit they would break — the file's own first, then the package total —
        and then counts nothing; the caller refuses the package with its own code.
        """
        if file_bytes + more > self.limits.max_file_bytes:
            return "file"
        if self.total + more > self.limits.max_total_bytes:
            return "total"
        self.total += more
        return None
