"""Writing OCFL 1.1 versions, crash-safe.

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

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO

from dangan.core.errors import ConflictError, IntegrityFailure, NotFoundError
from dangan.storage.domain import (
    DIGEST_ALGORITHM,
    INVENTORY,
    OBJECT_NAMASTE,
    SIDECAR,
    FileDigests,
    build_inventory,
    content_path,
    serialise_inventory,
    sidecar_bytes,
    version_name,
)
from dangan.storage.ocfl_read import OcflReader

_CHUNK = 1024 * 1024


def _stream_digests(source: BinaryIO) -> tuple[str, int]:
    h = hashlib.new(DIGEST_ALGORITHM)
    size = 0
    while chunk := source.read(_CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


class OcflWriter(OcflReader):
    """Staging content and sealing versions on top of reading."""

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
        self._check_paths(files, extra_files)
        current = self._head_inventory(object_id)
        previous = self._previous_for(object_id, version, current)
        new_content, fixity, state, to_write = self._plan(
            root,
            version,
            previous,
            files,
            extra_files,
            verify_staged=verify_staged,
            sm3_fixity=sm3_fixity,
        )
        self._check_no_stray(root, vname, object_id, new_content)
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
        if current is not None and current["head"] == vname and current != inventory:
            raise ConflictError(
                code="version_exists",
                zh=f"对象 {object_id} 的 {vname} 已以不同内容封存",
                en=f"{vname} of object {object_id!r} was already sealed with different content",
            )
        self._seal(root, vname, inventory, to_write)
        return inventory

    def _check_paths(self, files: Mapping[str, Any], extra_files: Mapping[str, bytes]) -> None:
        for lp in (*files, *extra_files):
            self._check_logical(lp)
        overlap = set(files) & set(extra_files)
        if overlap:
            raise ConflictError(
                code="duplicate_logical_path",
                zh=f"逻辑路径重复：{sorted(overlap)}",
                en=f"logical paths given twice: {sorted(overlap)}",
            )

    def _check_no_stray(
        self, root: str, vname: str, object_id: str, new_content: Mapping[str, str]
    ) -> None:
        """Everything staged in the version must belong to it (no leftovers of other input)."""
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

    def _seal(
        self, root: str, vname: str, inventory: Mapping[str, Any], to_write: Mapping[str, bytes]
    ) -> None:
        """Write in the crash-safe order of the module docstring; the declaration goes last."""
        for key, data in to_write.items():
            self.store.put(key, data)
        body = serialise_inventory(inventory)
        sidecar = sidecar_bytes(body)
        self.store.put(f"{root}/{vname}/{INVENTORY}", body)
        self.store.put(f"{root}/{vname}/{SIDECAR}", sidecar)
        self.store.put(f"{root}/{INVENTORY}", body)
        self.store.put(f"{root}/{SIDECAR}", sidecar)
        namaste = f"{root}/{OBJECT_NAMASTE[0]}"
        if not self.store.exists(namaste):
            self.store.put(namaste, OBJECT_NAMASTE[1])

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
