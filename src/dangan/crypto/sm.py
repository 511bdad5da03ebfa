"""The `sm` suite (default): SM3 hash, SM2 signatures with SM3, SM4-GCM.

Encodings, fixed because they are written into packages and checked by outside parties:

* Signature: ASN.1 DER ``SEQUENCE { r INTEGER, s INTEGER }`` exactly as GmSSL produces it,
  the form GB/T 35276 (GM/T 0009) specifies, so OpenSSL/GmSSL tools verify it unchanged.
  `sm2_signature_der` turns a raw (r, s) pair into this form.
* Signer ID: ``1234567812345678``, the default of GB/T 35276, hashed into Z_A (GB/T 32918.2).
* Public key: 65-byte uncompressed point ``04 || X || Y`` (GB/T 32918.1); 64-byte ``X || Y``
  and 33-byte compressed points are accepted when verifying.
* Private key: the 32-byte big-endian scalar d.
* Cipher blob: 12-byte random nonce || ciphertext || 16-byte tag; SM4 keys are 16 bytes.
"""

from __future__ import annotations

import os

import gmssl_pyx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dangan.core.errors import ConfigurationError
from dangan.crypto.interfaces import decrypt_failed

SIGNER_ID = b"1234567812345678"
SM4_KEY_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
# order of the SM2 recommended curve (GB/T 32918.5); a private key d must be in [1, n-2]
CURVE_ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
# a || b || xG || yG of the recommended curve, hashed into Z_A (GB/T 32918.2, 5.5)
_CURVE = bytes.fromhex(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)


class Sm3Hasher:
    """Incremental SM3; `digest()` may be called more than once, as with hashlib."""

    def __init__(self) -> None:
        self._h = hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.copy().finalize()


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _raw_point(public_key: bytes) -> bytes | None:
    """64-byte X || Y on the curve, or None if `public_key` is no SM2 point."""
    try:
        raw: bytes = gmssl_pyx.normalize_sm2_public_key(bytes(public_key))
    except (gmssl_pyx.InvalidValueError, ValueError, TypeError):
        return None
    return raw


def sm2_verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Check a DER SM2-with-SM3 signature; any malformed input is simply not valid."""
    raw = _raw_point(public_key)
    if raw is None or not signature:
        return False
    try:
        return bool(gmssl_pyx.sm2_verify(raw, data, signature, SIGNER_ID))
    except (gmssl_pyx.GmsslInnerError, ValueError, TypeError):
        return False


def sm2_z(public_raw: bytes, signer_id: bytes = SIGNER_ID) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) for a 64-byte X || Y key."""
    entl = (len(signer_id) * 8).to_bytes(2, "big")
    return sm3(entl + signer_id + _CURVE + public_raw)


def _der_int(value: int) -> bytes:
    # bit_length // 8 + 1 is the minimal two's-complement width (room for the sign bit)
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + bytes([len(body)]) + body


def sm2_signature_der(r: int, s: int) -> bytes:
    """DER form of a raw (r, s) pair, e.g. from a published r || s example."""
    body = _der_int(r) + _der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plaintext) + enc.finalize()
    return nonce + body + enc.tag


def sm4_gcm_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise decrypt_failed()
    nonce, body, tag = blob[:NONCE_SIZE], blob[NONCE_SIZE:-TAG_SIZE], blob[-TAG_SIZE:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        raise decrypt_failed() from None


class SmSuite:
    """`CryptoSuite` over the SM algorithms, holding one instance's keys."""

    name = "sm"
    hash_name = "sm3"
    sign_name = "sm2-sm3"
    cipher_name = "sm4-gcm"
    data_key_size = SM4_KEY_SIZE

    def __init__(self, private_key: bytes, public_key: bytes, master_key: bytes) -> None:
        raw = _raw_point(public_key)
        d = int.from_bytes(private_key, "big")
        if len(private_key) != 32 or not 1 <= d <= CURVE_ORDER - 2 or raw is None:
            raise ConfigurationError(
                code="keys_corrupt",
                zh="SM2 密钥格式不正确",
                en="the SM2 key pair is malformed",
            )
        self._private = bytes(private_key)
        self._public_raw = raw
        # Z_A once here: gmssl's sm2_sign redoes key set-up per call and is ~10x slower
        self._z = sm2_z(raw)
        self._master = bytes(master_key)

    @classmethod
    def generate(cls) -> SmSuite:
        """A suite with fresh keys (used by `init_keys` and tests)."""
        public_raw, private = gmssl_pyx.sm2_key_generate()
        return cls(bytes(private), b"\x04" + bytes(public_raw), os.urandom(32))

    def private_key_bytes(self) -> bytes:
        return self._private

    def master_key(self) -> bytes:
        """The 32-byte master data key, for envelope encryption of data keys."""
        return self._master

    def new_hasher(self) -> Sm3Hasher:
        return Sm3Hasher()

    def hash(self, data: bytes) -> bytes:
        return sm3(data)

    def sign(self, data: bytes) -> bytes:
        # e = SM3(Z_A || M), then sign e (GB/T 32918.2, 6.1)
        sig: bytes = gmssl_pyx.sm2_sign_sm3_digest(self._private, sm3(self._z + data))
        return sig

    def verify(self, data: bytes, signature: bytes, public_key: bytes | None = None) -> bool:
        return sm2_verify(self.public_key() if public_key is None else public_key, data, signature)

    def public_key(self) -> bytes:
        return b"\x04" + self._public_raw

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return sm4_gcm_encrypt(key, plaintext, aad)

    def decrypt(self, key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
        return sm4_gcm_decrypt(key, blob, aad)
