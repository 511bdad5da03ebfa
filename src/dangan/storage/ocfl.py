"""OCFL 1.1 storage root on any `BlobStore`.

`OcflStorageRoot` is built in layers: reading and verifying objects (`ocfl_read`), staging
and sealing versions on top (`ocfl_write`), and here the root itself (its declaration and
layout, extension 0004), listing objects, and recovery: what a crash during a write leaves
behind (see `ocfl_write` for the write order) is found by `incomplete_objects` and removed
by `discard_incomplete`; committed versions are never touched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from dangan.core.errors import ConfigurationError, ConflictError, NotFoundError
from dangan.storage.domain import (
    INVENTORY,
    LAYOUT_CONFIG,
    LAYOUT_DESCRIPTION,
    LAYOUT_EXTENSION,
    OBJECT_NAMASTE,
    ROOT_NAMASTE,
    FileDigests,
)
from dangan.storage.ocfl_write import OcflWriter

__all__ = ["FileDigests", "IncompleteObject", "OcflStorageRoot"]

_ROOT_SEGMENTS = re.compile(r"^[0-9a-f]{3}/[0-9a-f]{3}/[0-9a-f]{3}/[0-9a-f]{64}$")
_VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")


@dataclass(frozen=True)
class IncompleteObject:
    """An object directory a crash left unfinished.

    `object_id` is None when no inventory exists yet (the id is only recorded there);
    `staged_versions` are version directories beyond the committed head.
    """

    root: str
    object_id: str | None
    head: str | None
    staged_versions: list[str] = field(default_factory=list)


class OcflStorageRoot(OcflWriter):
    """OCFL 1.1 objects laid out by extension 0004 (sha256, 3×3 tuples) in one blob store."""

    # --- storage root ---

    def _root_files(self) -> dict[str, bytes]:
        layout = {"extension": LAYOUT_EXTENSION, "description": LAYOUT_DESCRIPTION}
        return {
            ROOT_NAMASTE[0]: ROOT_NAMASTE[1],
            "ocfl_layout.json": (json.dumps(layout, indent=2, sort_keys=True) + "\n").encode(),
            f"extensions/{LAYOUT_EXTENSION}/config.json": (
                json.dumps(LAYOUT_CONFIG, indent=2, sort_keys=True) + "\n"
            ).encode(),
        }

    def initialize(self) -> None:
        """Create the storage root declaration and layout; a no-op if already present."""
        for key, data in self._root_files().items():
            if not self.store.exists(key):
                self.store.put(key, data)
                continue
            if key == "ocfl_layout.json":
                existing = json.loads(self.store.get(key))
                if existing.get("extension") != LAYOUT_EXTENSION:
                    raise ConfigurationError(
                        code="ocfl_layout_mismatch",
                        zh=f"存储 {self.store.name} 使用了其他 OCFL 布局",
                        en=f"store {self.store.name!r} uses another OCFL layout",
                    )

    # --- listing and recovery ---

    def _objects(self) -> dict[str, set[str]]:
        """Object root → keys relative to it."""
        roots: dict[str, set[str]] = {}
        for key in self.store.list(""):
            parts = key.split("/", 4)
            if len(parts) < 5:
                continue
            root = "/".join(parts[:4])
            if _ROOT_SEGMENTS.match(root):
                roots.setdefault(root, set()).add(parts[4])
        return roots

    def _inventory_id(self, root: str) -> tuple[str | None, str | None]:
        try:
            inv = json.loads(self.store.get(f"{root}/{INVENTORY}"))
            return str(inv["id"]), str(inv["head"])
        except (NotFoundError, ValueError, KeyError, TypeError):
            return None, None

    def list_objects(self) -> list[str]:
        """Ids of complete objects (declaration and inventory present), sorted."""
        ids: list[str] = []
        for root, rel in self._objects().items():
            if OBJECT_NAMASTE[0] in rel and INVENTORY in rel:
                oid, _head = self._inventory_id(root)
                if oid is not None:
                    ids.append(oid)
        return sorted(ids)

    def incomplete_objects(self) -> list[IncompleteObject]:
        """Objects without a declaration/inventory, or with versions staged past the head."""
        found: list[IncompleteObject] = []
        for root, rel in sorted(self._objects().items()):
            oid, head = self._inventory_id(root) if INVENTORY in rel else (None, None)
            complete = OBJECT_NAMASTE[0] in rel and head is not None
            head_n = int(head[1:]) if head else 0
            staged = sorted(
                {
                    r.split("/", 1)[0]
                    for r in rel
                    if (m := _VERSION_DIR.match(r.split("/", 1)[0])) and int(m.group(1)) > head_n
                },
                key=lambda v: int(v[1:]),
            )
            if not complete or staged:
                found.append(IncompleteObject(root, oid, head, staged))
        return found

    def discard_incomplete(self, object_id: str) -> int:
        """Delete what was staged but never sealed; committed versions are never touched.

        Without an object declaration or inventory the whole directory goes; otherwise only
        version directories past the head. Returns the number of files deleted. Call it only
        for objects the catalogue did not commit: a committed one is finished by re-running
        `write_version`.
        """
        return self.discard_incomplete_at(self.object_root(object_id), object_id)

    def discard_incomplete_at(self, root: str, object_id: str | None = None) -> int:
        """As `discard_incomplete`, by object directory (for objects whose id was never
        recorded because the crash came before the first inventory)."""
        # only this object's keys: a failed submission must not list the whole root
        rel = {key[len(root) + 1 :] for key in self.store.list(root) if key.startswith(f"{root}/")}
        oid, head = self._inventory_id(root) if INVENTORY in rel else (None, None)
        if oid is not None and object_id is not None and oid != object_id:
            raise ConflictError(
                code="object_id_mismatch",
                zh=f"目录 {root} 中的对象标识为 {oid}，不是 {object_id}",
                en=f"directory {root} holds object {oid!r}, not {object_id!r}",
            )
        complete = OBJECT_NAMASTE[0] in rel and head is not None
        head_n = int(head[1:]) if head and complete else 0
        doomed = []
        for r in rel:
            first = r.split("/", 1)[0]
            m = _VERSION_DIR.match(first)
            if not complete or (m and int(m.group(1)) > head_n):
                doomed.append(r)
        for r in sorted(doomed):
            self.store.delete(f"{root}/{r}")
        return len(doomed)
