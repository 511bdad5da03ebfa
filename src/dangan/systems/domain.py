"""Rules of the system API's callbacks: the signature of a notice. (The rules of system
tokens moved to `dangan.access.domain`.)"""

from __future__ import annotations

import hashlib
import hmac


def sign_notice(key: str, body: bytes) -> str:
    """The X-Dangan-Signature value: HMAC-SHA256 over the exact body bytes."""
    return "sha256=" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_notice(key: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): constant-time check of X-Dangan-Signature."""
    return hmac.compare_digest(sign_notice(key, body), signature)
