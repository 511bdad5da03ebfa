"""The crypto suite port: one interface, two suites (`sm` default, `intl`).

A suite bundles a hash, a signature scheme and an AEAD cipher. Callers never name an
algorithm; they ask the suite configured for the instance. Keys live in a key directory
outside the database (see `keystore.py`), created by `dangan init`.
"""

from __future__ import annotations

from typing import Protocol

from dangan.core.errors import IntegrityFailure


class Hasher(Protocol):
    """Incremental hash, as hashlib's objects."""

    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


class CryptoSuite(Protocol):
    """Hash, sign and encrypt with one suite's algorithms.

    `name` is "sm" or "intl"; `hash_name` ("sm3"/"sha256"), `sign_name` ("sm2-sm3"/"ed25519")
    and `cipher_name` ("sm4-gcm"/"aes-256-gcm") are written into packages, receipts and
    checkpoints so a verifier knows what to use.
    """

    name: str
    hash_name: str
    sign_name: str
    cipher_name: str

    def new_hasher(self) -> Hasher: ...

    def hash(self, data: bytes) -> bytes:
        """Digest of `data` (32 bytes for both suites)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign `data` with the instance's private signing key."""
        ...

    def verify(self, data: bytes, signature: bytes, public_key: bytes | None = None) -> bool:
        """True if `signature` over `data` is valid for `public_key` (default: our own)."""
        ...

    def public_key(self) -> bytes:
        """The raw public key bytes an outside party needs to verify our signatures."""
        ...

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """AEAD-encrypt; returns nonce || ciphertext || tag."""
        ...

    def decrypt(self, key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
        """Inverse of `encrypt`; raises `IntegrityFailure` if the tag does not verify."""
        ...


def decrypt_failed() -> IntegrityFailure:
    return IntegrityFailure(
        code="decrypt_failed",
        zh="密文校验失败：数据已被篡改、损坏，或密钥不对",
        en="ciphertext did not verify: the data was altered or damaged, or the key is wrong",
    )
