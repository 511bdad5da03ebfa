"""ocfl-py's validator, taught the 0004 storage layout we use (ocfl-py 2.1 ships no handler)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ocfl
from ocfl import layout_registry
from ocfl.layout import Layout

from dangan.storage import object_root_path

EXT = "0004-hashed-n-tuple-storage-layout"


class _Layout0004(Layout):  # type: ignore[misc]
    """The validator only needs the layout name to be known and ids mapped to paths."""

    def __init__(self) -> None:
        self.NAME = EXT
        self.DESCRIPTION = "0004 for tests"
        self.PARAMS: dict[str, Any] = {}

    def identifier_to_path(self, identifier: str) -> str:
        return object_root_path(identifier)


layout_registry.add_layout(EXT, _Layout0004)


def validate(root: Path, *, lax: bool = False) -> tuple[bool, list[Any]]:
    """ocfl-py storage-root validation: structure AND every object must be valid."""
    sr = ocfl.StorageRoot(root=str(root), lax_digests=lax)
    sr.registered_extensions.append(EXT)
    ok = sr.validate(log_warnings=True, log_errors=False)
    return bool(ok and sr.num_objects == sr.good_objects), list(sr.errors)
