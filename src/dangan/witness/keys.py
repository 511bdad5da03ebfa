"""The witness's own Ed25519 key, in its directory — never the log's, never in a database.

Layout of a witness directory (0700):

* ``witness.key``: the 32-byte Ed25519 seed, 0600, written once (O_EXCL) and never printed;
* ``witness.json``: the witness's key name and public key (hex), written last, so a directory
  without it was never initialised;
* ``state.sqlite``: the logs it watches and what it last cosigned (`dangan.witness.state`).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dangan.core.errors import ConfigurationError
from dangan.core.files import create_private

KEY_FILE = "witness.key"
INFO_FILE = "witness.json"
STATE_FILE = "state.sqlite"
_NAME = re.compile(r"^[^\s+]{1,200}$")  # a note key name: no spaces, no '+'


def _error(code: str, zh: str, en: str) -> ConfigurationError:
    return ConfigurationError(code=code, zh=zh, en=en)


@dataclass(frozen=True)
class WitnessKey:
    name: str
    public_key: bytes
    _private: Ed25519PrivateKey = field(repr=False)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def _public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _exists(directory: Path) -> ConfigurationError:
    return _error(
        "witness_exists",
        f"{directory} 中已有见证方密钥，拒绝覆盖",
        f"{directory} already holds a witness key; refusing to overwrite it",
    )


def _write_private(path: Path, data: bytes) -> None:
    try:
        create_private(path, data)
    except FileExistsError:
        raise _exists(path.parent) from None


def create_key(directory: Path, name: str) -> WitnessKey:
    """Make the witness's key pair in `directory` (created 0700); refuses to replace one."""
    if not _NAME.match(name):
        raise _error(
            "bad_witness_name",
            "见证方名称不得为空，不得含空白或 “+”",
            "a witness name must be non-empty, without spaces or '+'",
        )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if (directory / INFO_FILE).exists() or (directory / KEY_FILE).exists():
        raise _exists(directory)
    seed = os.urandom(32)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    _write_private(directory / KEY_FILE, seed)
    info = {"name": name, "public_key": _public(private).hex()}
    _write_private(directory / INFO_FILE, json.dumps(info, indent=2).encode() + b"\n")
    return WitnessKey(name, _public(private), private)


def _read_info(directory: Path) -> dict[str, str]:
    try:
        info = json.loads((directory / INFO_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _error(
            "witness_missing",
            f"{directory} 不是见证方目录，请先运行 dangan witness init",
            f"{directory} is no witness directory; run 'dangan witness init' first",
        ) from None
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict) or not all(
        isinstance(info.get(k), str) for k in ("name", "public_key")
    ):
        raise _corrupt(directory, f"{INFO_FILE} 无法读取")
    return info


def _corrupt(directory: Path, why: str) -> ConfigurationError:
    return _error("witness_corrupt", f"见证方目录 {directory} 已损坏：{why}", f"{directory}: {why}")


def load_key(directory: Path) -> WitnessKey:
    """The witness key in `directory`, checked: 0600, 32 bytes, matching witness.json."""
    info = _read_info(directory)
    path = directory / KEY_FILE
    try:
        mode, seed = path.stat().st_mode, path.read_bytes()
    except OSError:
        raise _corrupt(directory, f"{KEY_FILE} 无法读取 / unreadable") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise _error(
            "key_permissions",
            f"{path} 的权限过宽，其他用户可读；请执行 chmod 600",
            f"{path} is accessible by other users; run chmod 600 on it",
        )
    if len(seed) != 32:
        raise _corrupt(directory, f"{KEY_FILE} 长度不对 / wrong length")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    if _public(private).hex() != info["public_key"]:
        raise _corrupt(directory, "私钥与公钥不匹配 / the key does not match witness.json")
    return WitnessKey(info["name"], _public(private), private)


def public_info(directory: Path) -> dict[str, str]:
    """The witness's name and public key (hex): what a log operator configures."""
    return _read_info(directory)
