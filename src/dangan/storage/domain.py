"""Pure storage rules: safe keys and names, the OCFL 1.1 layout and inventory.

Nothing here touches the disk, so every rule is testable on its own and shared by every
`BlobStore` implementation and by the OCFL writer.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dangan.core.clock import iso
from dangan.core.errors import IntegrityFailure, InvalidInputError, NotFoundError, invalid

# --- errors -------------------------------------------------------------------------------


def blob_not_found(store: str, key: str) -> NotFoundError:
    """No blob is stored under `key` in `store` (code `blob_not_found`)."""
    return NotFoundError(
        code="blob_not_found",
        zh=f"存储 {store} 中不存在对象 {key}",
        en=f"no blob {key!r} in store {store!r}",
    )


# --- keys and names -----------------------------------------------------------------------

# Most file systems cap one name at 255 bytes; 85 Chinese characters fit in UTF-8.
MAX_SEGMENT_BYTES = 255
MAX_KEY_CHARS = 1024
# Temporary files of atomic writes start with this; keys may not, so they never collide
# and `list` can skip leftovers of a crash.
TEMP_PREFIX = ".dangan-tmp-"

_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe(value: str, zh: str, en: str, field: str = "path") -> InvalidInputError:
    return invalid(field, "unsafe_path", f"{zh}：{value!r}", f"{en}: {value!r}")


def _segment_problem(seg: str) -> tuple[str, str] | None:
    if seg == "":
        return "路径含空段（连续或首尾的 /）", "empty path segment (double, leading or trailing /)"
    if seg in {".", ".."}:
        return "路径不得含 . 或 ..", "path may not contain . or .."
    if len(seg.encode("utf-8")) > MAX_SEGMENT_BYTES:
        return (
            f"路径段超过 {MAX_SEGMENT_BYTES} 字节",
            f"path segment longer than {MAX_SEGMENT_BYTES} bytes",
        )
    if seg.startswith(TEMP_PREFIX):
        return "路径段使用了保留前缀", "path segment uses a reserved prefix"
    return None


def _check_path(value: str, field: str) -> str:
    if not isinstance(value, str) or value == "":
        raise _unsafe(str(value), "路径为空", "empty path", field)
    if len(value) > MAX_KEY_CHARS:
        raise _unsafe(value[:64] + "…", "路径过长", "path too long", field)
    if value.startswith("/"):
        raise _unsafe(value, "不得使用绝对路径", "absolute paths are not allowed", field)
    if "\\" in value:
        raise _unsafe(value, "不得含反斜杠", "back-slashes are not allowed", field)
    if _DRIVE.match(value):
        raise _unsafe(value, "不得含盘符", "drive letters are not allowed", field)
    # NUL, C0/C1 controls, DEL, and Unicode format/line separators never belong in a name.
    for ch in value:
        if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}:
            raise _unsafe(value, "不得含控制字符", "control characters are not allowed", field)
    for seg in value.split("/"):
        problem = _segment_problem(seg)
        if problem is not None:
            raise _unsafe(value, problem[0], problem[1], field)
    return value


def check_key(key: str) -> str:
    """Return `key` if it is a safe '/'-separated relative blob key; raise otherwise."""
    return _check_path(key, "path")


def safe_logical_path(name: str) -> str:
    """A submitter's file name as a safe OCFL logical path, NFC-normalised.

    NFC first, so names that look alike but differ in composition cannot become two files,
    and the checks see the same characters the file system will.
    """
    if not isinstance(name, str):
        raise _unsafe(repr(name), "文件名不是字符串", "file name is not a string", "file_name")
    normal = unicodedata.normalize("NFC", name)
    return _check_path(normal, "file_name")


# --- OCFL storage layout: extension 0004-hashed-n-tuple-storage-layout ---------------------

LAYOUT_EXTENSION = "0004-hashed-n-tuple-storage-layout"
LAYOUT_CONFIG: dict[str, Any] = {
    "extensionName": LAYOUT_EXTENSION,
    "digestAlgorithm": "sha256",
    "tupleSize": 3,
    "numberOfTuples": 3,
    "shortObjectRoot": False,
}
LAYOUT_DESCRIPTION = (
    "Hashed N-tuple Storage Layout: sha256 of the object id, 3 tuples of 3 characters, "
    "then the full digest as the object directory"
)


def object_root_path(object_id: str) -> str:
    """Object root (relative to the storage root) for `object_id`, per extension 0004."""
    if not isinstance(object_id, str) or object_id == "":
        raise invalid("object_id", "invalid_object_id", "对象标识为空", "empty object id")
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    size, count = LAYOUT_CONFIG["tupleSize"], LAYOUT_CONFIG["numberOfTuples"]
    tuples = [digest[i * size : (i + 1) * size] for i in range(count)]
    return "/".join([*tuples, digest])


# --- OCFL inventory -------------------------------------------------------------------------

OCFL_VERSION = "1.1"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
# sha512: the algorithm OCFL 1.1 says inventories SHOULD use (sha256 draws warning W004).
DIGEST_ALGORITHM = "sha512"
CONTENT_DIRECTORY = "content"
ROOT_NAMASTE = ("0=ocfl_1.1", b"ocfl_1.1\n")
OBJECT_NAMASTE = ("0=ocfl_object_1.1", b"ocfl_object_1.1\n")
INVENTORY = "inventory.json"
SIDECAR = f"inventory.json.{DIGEST_ALGORITHM}"

_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class FileDigests:
    """What the ingest computed for one content file while streaming it.

    `sha512` keys the OCFL manifest; `sha256` (optional) goes into the OCFL fixity block,
    which validators check; `sm3` is kept in our metadata and the package XML, since the
    OCFL fixity registry has no SM3 and ocfl-py rejects unknown fixity algorithms (E056b).
    """

    sha512: str
    sm3: str
    size: int
    sha256: str | None = None

    def __post_init__(self) -> None:
        for name, value, width in (
            ("sha512", self.sha512, 128),
            ("sm3", self.sm3, 64),
            ("sha256", self.sha256, 64),
        ):
            if value is None:
                continue
            if len(value) != width or not _HEX.match(value):
                raise invalid(
                    name,
                    "invalid_digest",
                    f"摘要须为 {width} 位小写十六进制",
                    f"digest must be {width} lower-case hex digits",
                )
        if self.size < 0:
            raise invalid("size", "invalid_size", "大小不能为负", "size may not be negative")


def utc_iso(ts: datetime) -> str:
    """RFC 3339 time; a naive datetime is taken as UTC (SQLite returns stored UTC times naive),
    so the result never depends on the host's time zone."""
    return iso(ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC))


def version_name(version: int) -> str:
    if not isinstance(version, int) or version < 1:
        raise invalid("version", "invalid_version", "版本号须为正整数", "version must be >= 1")
    return f"v{version}"


def content_path(version: int, logical_path: str) -> str:
    """Path of a content file relative to the object root (vN/content/<logical path>)."""
    return f"{version_name(version)}/{CONTENT_DIRECTORY}/{logical_path}"


def build_inventory(
    *,
    object_id: str,
    previous: Mapping[str, Any] | None,
    version: int,
    state: Mapping[str, str],
    new_content: Mapping[str, str],
    fixity: Mapping[str, Mapping[str, str]],
    created: datetime,
    message: str,
    user_name: str,
    user_address: str | None,
) -> dict[str, Any]:
    """The inventory after adding `version` on top of `previous` (None for v1).

    `state` maps every logical path of this version to its sha512; `new_content` maps content
    paths written in this version to their sha512 (files carried over are referenced through
    the manifest, not copied). `fixity` maps algorithm → content path → digest.
    """
    _check_next_version(previous, version)
    manifest: dict[str, list[str]] = {}
    fixity_out: dict[str, dict[str, list[str]]] = {}
    versions: dict[str, Any] = {}
    if previous is not None:
        manifest = _copy_block(previous["manifest"])
        fixity_out = {a: _copy_block(b) for a, b in previous.get("fixity", {}).items()}
        versions = dict(previous["versions"])
    _add_paths(manifest, new_content)
    for alg, per_path in fixity.items():
        _add_paths(fixity_out.setdefault(alg, {}), per_path)
    missing = [d for d in state.values() if d not in manifest]
    if missing:
        raise IntegrityFailure(
            code="content_missing",
            zh=f"对象 {object_id} 缺少摘要为 {missing[0][:16]}… 的内容文件",
            en=f"object {object_id!r} has no content file with digest {missing[0][:16]}…",
        )
    versions[version_name(version)] = _version_block(
        state, created, message, user_name, user_address
    )
    inventory: dict[str, Any] = {
        "id": object_id,
        "type": INVENTORY_TYPE,
        "digestAlgorithm": DIGEST_ALGORITHM,
        "head": version_name(version),
        "contentDirectory": CONTENT_DIRECTORY,
        "manifest": _sorted_block(manifest),
        "versions": versions,
    }
    if fixity_out:
        inventory["fixity"] = {alg: _sorted_block(b) for alg, b in sorted(fixity_out.items())}
    return inventory


def _check_next_version(previous: Mapping[str, Any] | None, version: int) -> None:
    """Versions are written in sequence: v1 first, then one past the previous head."""
    expected = 1 if previous is None else int(str(previous["head"])[1:]) + 1
    if version != expected:
        raise invalid(
            "version",
            "version_out_of_sequence",
            f"应写入版本 v{expected}，而非 v{version}",
            f"the next version is v{expected}, not v{version}",
        )


def _version_block(
    state: Mapping[str, str],
    created: datetime,
    message: str,
    user_name: str,
    user_address: str | None,
) -> dict[str, Any]:
    """One entry of `versions`: when, why, by whom, and the state (digest → logical paths)."""
    by_digest: dict[str, list[str]] = {}
    for logical, digest in state.items():
        by_digest.setdefault(digest, []).append(logical)
    user: dict[str, str] = {"name": user_name}
    if user_address:
        user["address"] = user_address
    return {
        "created": utc_iso(created),
        "message": message,
        "user": user,
        "state": _sorted_block(by_digest),
    }


def _sorted_block(block: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Digests and their paths in sorted order, so the serialised inventory is deterministic."""
    return {d: sorted(p) for d, p in sorted(block.items())}


def _copy_block(block: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {d: list(p) for d, p in block.items()}


def _add_paths(block: dict[str, list[str]], path_to_digest: Mapping[str, str]) -> None:
    for path, digest in path_to_digest.items():
        paths = block.setdefault(digest, [])
        if path not in paths:
            paths.append(path)


def serialise_inventory(inventory: Mapping[str, Any]) -> bytes:
    """Deterministic bytes, so re-running a crashed write yields the identical file."""
    text = json.dumps(inventory, sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def sidecar_bytes(inventory_bytes: bytes) -> bytes:
    digest = hashlib.new(DIGEST_ALGORITHM, inventory_bytes).hexdigest()
    return f"{digest}  {INVENTORY}\n".encode()


def parse_sidecar(data: bytes) -> str:
    """The digest from a sidecar file ('<hex> inventory.json')."""
    parts = data.decode("utf-8", errors="replace").split()
    return parts[0].lower() if parts else ""


def state_of(inventory: Mapping[str, Any], version: str | None = None) -> dict[str, str]:
    """Logical path → digest for `version` (default: head)."""
    name = version or str(inventory["head"])
    state = inventory["versions"][name]["state"]
    return {path: digest for digest, paths in state.items() for path in paths}
