"""Writing secrets to disk: keys and their descriptions, owner-only and never replaced."""

from __future__ import annotations

import os
from pathlib import Path


def create_private(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner alone, durably; FileExistsError if it exists (O_EXCL:
    a key is never replaced, even when another process races this one) or is a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
