"""The `intl` suite: SHA-256, Ed25519 (RFC 8032), AES-256-GCM.

Public key: the 32-byte raw Ed25519 key; private key: the 32-byte seed; signature: 64 bytes.
Cipher blob: 12-byte random nonce || ciphertext || 16-byte tag; AES keys are 32 bytes.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dangan.core.errors import ConfigurationError
from dangan.crypto.interfaces import Hasher, decrypt_failed

AES_KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ed25519_verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Any malformed key or signature is simply not valid."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def aes_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise decrypt_failed()
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except InvalidTag:
        raise decrypt_failed() from None


class IntlSuite:
    """`CryptoSuite` over internationally standardised algorithms."""

    name = "intl"
    hash_name = "sha256"
    sign_name = "ed25519"
    cipher_name = "aes-256-gcm"
    data_key_size = AES_KEY_SIZE

    def __init__(self, private_key: bytes, master_key: bytes) -> None:
        try:
            self._key = Ed25519PrivateKey.from_private_bytes(bytes(private_key))
        except ValueError:
            raise ConfigurationError(
                code="keys_corrupt",
                zh="Ed25519 私钥格式不正确",
                en="the Ed25519 private key is malformed",
            ) from None
        self._seed = bytes(private_key)
        self._public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._master = bytes(master_key)

    @classmethod
    def generate(cls) -> IntlSuite:
        """A suite with fresh keys (used by `init_keys` and tests)."""
        return cls(os.urandom(32), os.urandom(32))

    def private_key_bytes(self) -> bytes:
        return self._seed

    def master_key(self) -> bytes:
        """The 32-byte master data key, for envelope encryption of data keys."""
        return self._master

    def new_hasher(self) -> Hasher:
        return hashlib.sha256()

    def hash(self, data: bytes) -> bytes:
        return sha256(data)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def verify(self, data: bytes, signature: bytes, public_key: bytes | None = None) -> bool:
        return ed25519_verify(self._public if public_key is None else public_key, data, signature)

    def public_key(self) -> bytes:
        return self._public

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return aes_gcm_encrypt(key, plaintext, aad)

    def decrypt(self, key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
        return aes_gcm_decrypt(key, blob, aad)
