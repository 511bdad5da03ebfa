"""Keys access derives from the instance's master data key, which lives in the key directory
and never in the database: one per purpose, told apart by a label, so a key leaked for one
purpose (say, signing the SSO state) says nothing of another (the TOTP secrets)."""

from __future__ import annotations

from dangan.core.errors import ConfigurationError
from dangan.crypto.interfaces import CryptoSuite


def derived_key(
    suite: CryptoSuite, label: bytes, purpose: tuple[str, str], *, cipher_key: bool = False
) -> bytes:
    """`suite.hash(label || master key)`; a `cipher_key` is cut to the suite's data-key size
    (for its AEAD cipher), anything else (an HMAC key) is the whole digest.

    `purpose` (zh, en) completes the ConfigurationError `no_master_key` raised when the suite
    has no master key (or, for a cipher key, no data-key size).
    """
    master = getattr(suite, "master_key", None)
    size = getattr(suite, "data_key_size", None)
    if not callable(master) or (cipher_key and not isinstance(size, int)):
        zh, en = purpose
        raise ConfigurationError(
            code="no_master_key",
            zh=f"加密套件没有主密钥，无法{zh}",
            en=f"the crypto suite has no master key to {en}",
        )
    key = suite.hash(label + bytes(master()))
    return key[:size] if cipher_key else key
