"""Reading OCFL 1.1 objects from a `BlobStore`, never trusting what was stored.

Every inventory is checked against its sidecar digest before it is used, and every file
read through `read_file` against the digest its inventory records, so damage on disk is an
`IntegrityFailure`, never silently wrong content. Writing builds on this (`ocfl_write`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from dangan.core.errors import ConflictError, IntegrityFailure, NotFoundError
from dangan.storage.domain import (
    DIGEST_ALGORITHM,
    INVENTORY,
    content_path,
    object_root_path,
    parse_sidecar,
    safe_logical_path,
    state_of,
    version_name,
)
from dangan.storage.interfaces import BlobStore


class OcflReader:
    """Reads and verifies the objects of one blob store (layout: extension 0004)."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def object_root(self, object_id: str) -> str:
        return object_root_path(object_id)

    # --- reading ---

    def _read_inventory_at(self, key: str, object_id: str) -> dict[str, Any]:
        try:
            data = self.store.get(key)
            sidecar = self.store.get(f"{key}.{DIGEST_ALGORITHM}")
        except NotFoundError:  # the blob is missing
            raise self._object_not_found(object_id) from None
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
            raise self._object_not_found(object_id)
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

    def _check_logical(self, logical_path: str) -> str:
        if safe_logical_path(logical_path) != logical_path:
            raise ConflictError(
                code="path_not_normalised",
                zh=f"逻辑路径 {logical_path!r} 未按 NFC 规范化，请先调用 safe_logical_path",
                en=f"logical path {logical_path!r} is not NFC; pass it through "
                "safe_logical_path first",
            )
        return logical_path

    def _object_not_found(self, object_id: str) -> NotFoundError:
        return NotFoundError(
            code="object_not_found",
            zh=f"存储 {self.store.name} 中不存在对象 {object_id}",
            en=f"object {object_id!r} not found in store {self.store.name!r}",
        )
