"""Crypto suites (`sm` default, `intl`), the key directory, and public-key-only checks."""

from dangan.crypto.interfaces import CryptoSuite, Hasher
from dangan.crypto.intl import IntlSuite
from dangan.crypto.keystore import (
    KeyedSuite,
    hash_with,
    init_keys,
    key_info,
    load_suite,
    new_hasher,
    verifier_for,
    verify_signature,
)
from dangan.crypto.sm import SmSuite, sm2_signature_der

__all__ = [
    "CryptoSuite",
    "Hasher",
    "IntlSuite",
    "KeyedSuite",
    "SmSuite",
    "hash_with",
    "init_keys",
    "key_info",
    "load_suite",
    "new_hasher",
    "sm2_signature_der",
    "verifier_for",
    "verify_signature",
]
