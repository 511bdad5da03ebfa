"""OCFL 1.1 storage root on any `BlobStore`.

Write order (crash-safe, matches the ingest: stage → catalogue commit → finalise):

1. `stage_content` puts content files under `vN/content/` before the catalogue commit;
2. `write_version` writes the extra files (metadata.json, metadata.xml, signature.json),
   `vN/inventory.json` + sidecar, then the root inventory + sidecar, then (for v1) the
   object declaration `0=ocfl_object_1.1` last, so an object without it is unfinished.

A crash at any point leaves either staged content without an inventory (reported by
`incomplete_objects`, removable with `discard_incomplete`) or a version that re-running
`write_version` with the same inputs completes byte-for-byte identically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from dangan.core.errors import ConfigurationError, ConflictError, IntegrityFailure, NotFoundError
from dangan.storage.domain import (
    DIGEST_ALGORITHM,
    INVENTORY,
    LAYOUT_CONFIG,
    LAYOUT_DESCRIPTION,
    LAYOUT_EXTENSION,
    OBJECT_NAMASTE,
    ROOT_NAMASTE,
    SIDECAR,
    FileDigests,
    build_inventory,
    content_path,
    object_root_path,
    parse_sidecar,
    safe_logical_path,
    serialise_inventory,
    sidecar_bytes,
    state_of,
    version_name,
)
from dangan.storage.interfaces import BlobStore

__all__ = ["FileDigests", "IncompleteObject", "OcflStorageRoot"]

_CHUNK = 1024 * 1024
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


def _stream_digests(source: BinaryIO) -> tuple[str, int]:
    h = hashlib.new(DIGEST_ALGORITHM)
    size = 0
    while chunk := source.read(_CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


class OcflStorageRoot:
    """OCFL 1.1 objects laid out by extension 0004 (sha256, 3×3 tuples) in one blob store."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

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

    def object_root(self, object_id: str) -> str:
        return object_root_path(object_id)

    # --- reading ---

    def _read_inventory_at(self, key: str, object_id: str) -> dict[str, Any]:
        try:
            data = self.store.get(key)
            sidecar = self.store.get(f"{key}.{DIGEST_ALGORITHM}")
        except NotFoundError:  # the blob is missing
            raise NotFoundError(
                code="object_not_found",
                zh=f"存储 {self.store.name} 中不存在对象 {object_id}",
                en=f"object {object_id!r} not found in store {self.store.name!r}",
            ) from None
        actual = hashlib.new(DIGEST_ALGORITHM, data).hexdigest()
        if parse_sidecar(sidecar) != actual:
            raise IntegrityFailure(
                code="inventory_digest_mismatch",
                zh=f"存储 {self.store.name} 中对象 {object_id} 的清单 {key} 与其摘要文件不符",
                en=f"inventory {key!r} of object {object_id!r} in store {self.store.name!r} "
                "does not match its sidecar digest",
            )
        inventory: dict[str, Any] = json.loads(data)
        return inventory

    def read_inventory(self, object_id: str, version: int | None = None) -> dict[str, Any]:
        """The root inventory (or that of `version`), its sidecar digest verified."""
        root = self.object_root(object_id)
        if version is None:
            return self._read_inventory_at(f"{root}/{INVENTORY}", object_id)
        return self._read_inventory_at(f"{root}/{version_name(version)}/{INVENTORY}", object_id)

    def _head_inventory(self, object_id: str) -> dict[str, Any] | None:
        root = self.object_root(object_id)
        if not self.store.exists(f"{root}/{INVENTORY}"):
            return None
        try:
            return self.read_inventory(object_id)
        except (NotFoundError, IntegrityFailure):
            # A crash between writing the root inventory and its sidecar: the version's own
            # inventory, written and sealed just before, is whole — resume from it.
            # Writes are atomic renames, so the root inventory itself is whole, only unsealed.
            head = int(str(json.loads(self.store.get(f"{root}/{INVENTORY}"))["head"])[1:])
            for v in (head, head - 1):
                if v >= 1:
                    with contextlib.suppress(NotFoundError, IntegrityFailure):
                        return self.read_inventory(object_id, v)
            raise

    def content_key(self, object_id: str, logical_path: str, version: int | None = None) -> str:
        """The store key holding `logical_path` (for streaming); digest NOT verified.

        For a version not sealed yet (no inventory, or past the head) this is the staging key
        `vN/content/<logical path>`, so the ingest can check what it staged.
        """
        inv = self._head_inventory(object_id)
        if version is not None and (inv is None or version_name(version) not in inv["versions"]):
            self._check_logical(logical_path)
            return f"{self.object_root(object_id)}/{content_path(version, logical_path)}"
        if inv is None:
            raise NotFoundError(
                code="object_not_found",
                zh=f"存储 {self.store.name} 中不存在对象 {object_id}",
                en=f"object {object_id!r} not found in store {self.store.name!r}",
            )
        return self._locate(inv, object_id, logical_path, version)[0]

    def _locate(
        self, inv: Mapping[str, Any], object_id: str, logical_path: str, version: int | None
    ) -> tuple[str, str]:
        vname = None if version is None else version_name(version)
        if vname is not None and vname not in inv["versions"]:
            raise NotFoundError(
                code="version_not_found",
                zh=f"对象 {object_id} 无版本 {vname}",
                en=f"object {object_id!r} has no version {vname}",
            )
        digest = state_of(inv, vname).get(logical_path)
        if digest is None:
            raise NotFoundError(
                code="file_not_found",
                zh=f"对象 {object_id} 中不存在文件 {logical_path}",
                en=f"object {object_id!r} has no file {logical_path!r}",
            )
        return f"{self.object_root(object_id)}/{inv['manifest'][digest][0]}", digest

    def read_file(self, object_id: str, logical_path: str, version: int | None = None) -> bytes:
        """Bytes of a logical file (head version by default), digest checked on the way out."""
        inv = self.read_inventory(object_id)
        key, digest = self._locate(inv, object_id, logical_path, version)
        data = self.store.get(key)
        if hashlib.new(DIGEST_ALGORITHM, data).hexdigest() != digest:
            raise IntegrityFailure(
                code="content_digest_mismatch",
                zh=f"存储 {self.store.name} 中对象 {object_id} 的文件 {logical_path}"
                f"（{key}）摘要不符，内容已损坏",
                en=f"file {logical_path!r} ({key}) of object {object_id!r} in store "
                f"{self.store.name!r} does not match its recorded digest",
            )
        return data

    # --- writing ---

    def _check_logical(self, logical_path: str) -> str:
        if safe_logical_path(logical_path) != logical_path:
            raise ConflictError(
                code="path_not_normalised",
                zh=f"逻辑路径 {logical_path!r} 未按 NFC 规范化，请先调用 safe_logical_path",
                en=f"logical path {logical_path!r} is not NFC; pass it through "
                "safe_logical_path first",
            )
        return logical_path

    def stage_content(
        self, object_id: str, version: int, logical_path: str, data: bytes | BinaryIO
    ) -> None:
        """Write a content file into `vN/content/` ahead of `write_version`."""
        self._check_logical(logical_path)
        inv = self._head_inventory(object_id)
        head = 0 if inv is None else int(str(inv["head"])[1:])
        if version <= head:
            raise ConflictError(
                code="version_exists",
                zh=f"对象 {object_id} 的版本 v{version} 已封存，不能再写入",
                en=f"version v{version} of object {object_id!r} is sealed",
            )
        key = f"{self.object_root(object_id)}/{content_path(version, logical_path)}"
        if isinstance(data, bytes | bytearray):
            self.store.put(key, bytes(data))
        else:
            self.store.put_file(key, data)

    def write_version(
        self,
        object_id: str,
        version: int,
        files: Mapping[str, FileDigests],
        extra_files: Mapping[str, bytes],
        *,
        created: datetime,
        message: str,
        user_name: str,
        user_address: str | None = None,
        verify_staged: bool = True,
        sm3_fixity: bool = False,
    ) -> dict[str, Any]:
        """Seal version `version`; returns its inventory.

        `files` is the full state of the version apart from `extra_files`: each path was either
        staged into this version or has a digest already in the manifest (carried over by
        reference, not copied). With `verify_staged`, staged files are re-hashed first.
        `sm3_fixity` also records SM3 in the fixity block; strict OCFL validators (ocfl-py)
        reject the unregistered algorithm, so it is off by default.
        """
        root = self.object_root(object_id)
        vname = version_name(version)
        for lp in (*files, *extra_files):
            self._check_logical(lp)
        overlap = set(files) & set(extra_files)
        if overlap:
            raise ConflictError(
                code="duplicate_logical_path",
                zh=f"逻辑路径重复：{sorted(overlap)}",
                en=f"logical paths given twice: {sorted(overlap)}",
            )

        current = self._head_inventory(object_id)
        previous = self._previous_for(object_id, version, current)
        plan = self._plan(
            root,
            version,
            previous,
            files,
            extra_files,
            verify_staged=verify_staged,
            sm3_fixity=sm3_fixity,
        )
        new_content, fixity, state, to_write = plan

        stray = sorted(
            k
            for k in self.store.list(f"{root}/{vname}/content")
            if k[len(root) + 1 :] not in new_content
        )
        if stray:
            raise ConflictError(
                code="unexpected_staged_content",
                zh=f"对象 {object_id} 的 {vname} 中有未登记的暂存文件：{stray}",
                en=f"{vname} of object {object_id!r} holds staged files not in the version: "
                f"{stray}",
            )

        inventory = build_inventory(
            object_id=object_id,
            previous=previous,
            version=version,
            state=state,
            new_content=new_content,
            fixity=fixity,
            created=created,
            message=message,
            user_name=user_name,
            user_address=user_address,
        )
        body = serialise_inventory(inventory)
        if current is not None and current["head"] == vname and current != inventory:
            raise ConflictError(
                code="version_exists",
                zh=f"对象 {object_id} 的 {vname} 已以不同内容封存",
                en=f"{vname} of object {object_id!r} was already sealed with different content",
            )
        for key, data in to_write.items():
            self.store.put(key, data)
        sidecar = sidecar_bytes(body)
        self.store.put(f"{root}/{vname}/{INVENTORY}", body)
        self.store.put(f"{root}/{vname}/{SIDECAR}", sidecar)
        self.store.put(f"{root}/{INVENTORY}", body)
        self.store.put(f"{root}/{SIDECAR}", sidecar)
        namaste = f"{root}/{OBJECT_NAMASTE[0]}"
        if not self.store.exists(namaste):
            self.store.put(namaste, OBJECT_NAMASTE[1])
        return inventory

    def _previous_for(
        self, object_id: str, version: int, current: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The inventory `version` builds on; None for a first version."""
        if current is None:
            if version > 1:
                # Root inventory lost but version inventories may remain; do not guess.
                raise NotFoundError(
                    code="object_not_found",
                    zh=f"对象 {object_id} 没有清单，无法写入 v{version}",
                    en=f"object {object_id!r} has no inventory; cannot write v{version}",
                )
            return None
        head = int(str(current["head"])[1:])
        if head == version:
            # Re-run after a crash (or a duplicate call): rebuild on top of v(N-1).
            return self.read_inventory(object_id, version - 1) if version > 1 else None
        if head > version:
            raise ConflictError(
                code="version_exists",
                zh=f"对象 {object_id} 已有更新的版本 {current['head']}",
                en=f"object {object_id!r} already has the later version {current['head']}",
            )
        return current

    def _plan(
        self,
        root: str,
        version: int,
        previous: Mapping[str, Any] | None,
        files: Mapping[str, FileDigests],
        extra_files: Mapping[str, bytes],
        *,
        verify_staged: bool,
        sm3_fixity: bool,
    ) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, str], dict[str, bytes]]:
        """(new content path → digest, fixity, state, extra files to write), nothing written."""
        known: Mapping[str, Any] = previous["manifest"] if previous else {}
        new_content: dict[str, str] = {}
        fixity: dict[str, dict[str, str]] = {}
        state: dict[str, str] = {}
        to_write: dict[str, bytes] = {}
        for lp, data in sorted(extra_files.items()):
            digest = hashlib.new(DIGEST_ALGORITHM, data).hexdigest()
            state[lp] = digest
            if digest in known:
                continue  # unchanged since an earlier version: reference it
            cp = content_path(version, lp)
            to_write[f"{root}/{cp}"] = data
            new_content[cp] = digest
            fixity.setdefault("sha256", {})[cp] = hashlib.sha256(data).hexdigest()
        for lp, fd in sorted(files.items()):
            state[lp] = fd.sha512
            cp = content_path(version, lp)
            key = f"{root}/{cp}"
            if self.store.exists(key):
                self._check_staged(key, fd, verify_staged)
                new_content[cp] = fd.sha512
                if fd.sha256:
                    fixity.setdefault("sha256", {})[cp] = fd.sha256
                if sm3_fixity:
                    fixity.setdefault("sm3", {})[cp] = fd.sm3
            # else: must already be in the manifest; build_inventory checks it.
        return new_content, fixity, state, to_write

    def _check_staged(self, key: str, fd: FileDigests, verify: bool) -> None:
        if verify:
            with self.store.open(key) as fh:
                digest, size = _stream_digests(fh)
        else:
            digest, size = fd.sha512, self.store.size(key)
        if digest != fd.sha512 or size != fd.size:
            raise IntegrityFailure(
                code="staged_content_mismatch",
                zh=f"存储 {self.store.name} 中暂存文件 {key} 与登记的摘要或大小不符",
                en=f"staged file {key!r} in store {self.store.name!r} does not match the "
                "recorded digest or size",
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
        rel = self._objects().get(root, set())
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
