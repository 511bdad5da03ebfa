"""Keys in a directory outside the database, and checks an outside party can run.

Layout of the key directory (0700, every file 0600):

* ``signing.key``: the raw private signing key (32 bytes; SM2 scalar or Ed25519 seed).
* ``master.key``: a random 32-byte master data key, for envelope encryption of data keys.
* ``keys.json``: suite, algorithm names, public key (hex) and creation time. Written last,
  so a directory without it never counts as initialised.

`verify_signature` and `hash_with` need no key directory: a verifier holding only the
published public key and the algorithm names recorded in a proof can use them.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from dangan.core.clock import iso, utcnow
from dangan.core.errors import ConfigurationError
from dangan.core.files import create_private
from dangan.crypto.interfaces import CryptoSuite, Hasher
from dangan.crypto.intl import IntlSuite, ed25519_verify
from dangan.crypto.sm import Sm3Hasher, SmSuite, sm2_verify

KEYS_JSON = "keys.json"
SIGNING_KEY = "signing.key"
MASTER_KEY = "master.key"
KEY_FORMAT = 1
_PROBE = b"dangan key pair check"


class KeyedSuite(CryptoSuite, Protocol):
    """A suite loaded from a key directory: also hands out the master data key."""

    data_key_size: int

    def master_key(self) -> bytes: ...

    def private_key_bytes(self) -> bytes: ...


_SUITES: dict[str, type[SmSuite] | type[IntlSuite]] = {"sm": SmSuite, "intl": IntlSuite}
_VERIFIERS: dict[str, Callable[[bytes, bytes, bytes], bool]] = {
    SmSuite.sign_name: sm2_verify,
    IntlSuite.sign_name: ed25519_verify,
}
_HASHERS: dict[str, Callable[[], Hasher]] = {
    SmSuite.hash_name: Sm3Hasher,
    IntlSuite.hash_name: hashlib.sha256,
}


def _error(code: str, zh: str, en: str) -> ConfigurationError:
    return ConfigurationError(code=code, zh=zh, en=en)


def _suite_class(suite_name: str) -> type[SmSuite] | type[IntlSuite]:
    cls = _SUITES.get(suite_name)
    if cls is None:
        raise _error(
            "unknown_suite",
            f"未知的密码套件 “{suite_name}”，可选 sm 或 intl",
            f"unknown crypto suite '{suite_name}'; use 'sm' or 'intl'",
        )
    return cls


def _write_private(path: Path, data: bytes) -> None:
    try:
        create_private(path, data)
    except FileExistsError:
        raise _keys_exist(path.parent) from None


def _keys_exist(key_dir: Path) -> ConfigurationError:
    return _error(
        "keys_exist",
        f"密钥目录 {key_dir} 中已有密钥，拒绝覆盖（覆盖会使已有签名和密文无法验证）",
        f"keys already exist in {key_dir}; refusing to overwrite them "
        "(existing signatures and ciphertexts would become unverifiable)",
    )


def init_keys(key_dir: Path, suite_name: str) -> None:
    """Generate the signing key pair and the master data key for `suite_name`."""
    cls = _suite_class(suite_name)
    key_dir = Path(key_dir)
    if any((key_dir / n).exists() for n in (KEYS_JSON, SIGNING_KEY, MASTER_KEY)):
        raise _keys_exist(key_dir)
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    suite = cls.generate()
    _write_private(key_dir / SIGNING_KEY, suite.private_key_bytes())
    _write_private(key_dir / MASTER_KEY, suite.master_key())
    info = {
        "format": KEY_FORMAT,
        "suite": cls.name,
        "hash": cls.hash_name,
        "sign": cls.sign_name,
        "cipher": cls.cipher_name,
        "public_key": suite.public_key().hex(),
        "created_at": iso(utcnow()),
    }
    _write_private(key_dir / KEYS_JSON, json.dumps(info, indent=2).encode("utf-8") + b"\n")


def _missing(key_dir: Path) -> ConfigurationError:
    return _error(
        "keys_missing",
        f"密钥目录 {key_dir} 中没有密钥，请先运行 dangan init",
        f"no keys in {key_dir}; run 'dangan init' first",
    )


def _corrupt(key_dir: Path, why_zh: str, why_en: str) -> ConfigurationError:
    return _error(
        "keys_corrupt",
        f"密钥目录 {key_dir} 已损坏：{why_zh}",
        f"the key directory {key_dir} is corrupt: {why_en}",
    )


def key_info(key_dir: Path) -> dict[str, Any]:
    """The contents of keys.json (suite, algorithms, public key, creation time)."""
    path = Path(key_dir) / KEYS_JSON
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _missing(Path(key_dir)) from None
    except (OSError, ValueError):
        raise _corrupt(Path(key_dir), "keys.json 无法读取", "keys.json is unreadable") from None
    if not isinstance(info, dict):
        raise _corrupt(Path(key_dir), "keys.json 不是对象", "keys.json is not an object")
    return info


def _read_secret(key_dir: Path, name: str, size: int) -> bytes:
    path = key_dir / name
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise _missing(key_dir) from None
    except OSError:
        raise _corrupt(key_dir, f"{name} 无法读取", f"{name} is unreadable") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise _error(
            "key_permissions",
            f"{path} 的权限过宽，其他用户可读；请执行 chmod 600",
            f"{path} is accessible by other users; run chmod 600 on it",
        )
    if len(data) != size:
        raise _corrupt(key_dir, f"{name} 长度不对", f"{name} has the wrong length")
    return data


def load_suite(key_dir: Path, suite_name: str) -> KeyedSuite:
    """The suite configured as `suite_name`, with the keys found in `key_dir`."""
    cls = _suite_class(suite_name)
    key_dir = Path(key_dir)
    info = key_info(key_dir)
    if info.get("suite") != suite_name:
        raise _error(
            "key_suite_mismatch",
            f"密钥目录 {key_dir} 中的密钥属于套件 “{info.get('suite')}”，而配置为 “{suite_name}”",
            f"the keys in {key_dir} were made for suite '{info.get('suite')}', "
            f"but the configured suite is '{suite_name}'",
        )
    expected = (cls.hash_name, cls.sign_name, cls.cipher_name)
    if (info.get("hash"), info.get("sign"), info.get("cipher")) != expected:
        raise _corrupt(key_dir, "keys.json 中的算法与套件不符", "keys.json names other algorithms")
    try:
        public = bytes.fromhex(str(info["public_key"]))
    except (KeyError, ValueError):
        why = ("公钥缺失或格式错误", "the public key is missing or malformed")
        raise _corrupt(key_dir, *why) from None
    private = _read_secret(key_dir, SIGNING_KEY, 32)
    master = _read_secret(key_dir, MASTER_KEY, 32)
    suite: SmSuite | IntlSuite = (
        SmSuite(private, public, master) if cls is SmSuite else IntlSuite(private, master)
    )
    # a private key that does not match the published public key would sign unverifiably
    if not suite.verify(_PROBE, suite.sign(_PROBE), public_key=public):
        raise _corrupt(key_dir, "私钥与公钥不匹配", "the private key does not match the public key")
    return suite


def _unknown_algorithm(name: str) -> ConfigurationError:
    return _error(
        "unknown_algorithm",
        f"不支持的算法 “{name}”",
        f"unsupported algorithm '{name}'",
    )


def verifier_for(sign_name: str) -> Callable[[bytes, bytes, bytes], bool]:
    """`(public_key, data, signature) -> valid?` for the named signature scheme."""
    verifier = _VERIFIERS.get(sign_name)
    if verifier is None:
        raise _unknown_algorithm(sign_name)
    return verifier


def verify_signature(sign_name: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Check a signature with the public key alone (no key directory needed)."""
    return verifier_for(sign_name)(public_key, data, signature)


def new_hasher(hash_name: str) -> Hasher:
    factory = _HASHERS.get(hash_name)
    if factory is None:
        raise _unknown_algorithm(hash_name)
    return factory()


def hash_with(hash_name: str, data: bytes) -> bytes:
    """Digest of `data` with the named hash ("sm3" or "sha256")."""
    h = new_hasher(hash_name)
    h.update(data)
    return h.digest()
