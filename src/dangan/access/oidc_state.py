"""The state of one single sign-on between its two legs, kept in a signed cookie.

The cookie holds `state`, `nonce` and the PKCE verifier, HMAC-signed with a key derived from
the master key, so nothing is stored on the server between the legs and the callback only
succeeds in the browser that started it, within `STATE_MAX_AGE`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from authlib.common.security import generate_token

from dangan.access.keys import derived_key
from dangan.core.errors import MalformedInputError
from dangan.crypto.interfaces import CryptoSuite

STATE_COOKIE = "dangan_oidc"
STATE_PATH = "/api/v1/auth/oidc"
STATE_MAX_AGE = 600  # seconds a browser has to come back from the provider
_STATE_KEY_LABEL = b"dangan/web/oidc-state/v1\x00"
_PURPOSE = ("签署登录状态", "sign the sign-in state with")


@dataclass(frozen=True)
class LoginState:
    state: str
    nonce: str
    verifier: str  # the PKCE code verifier
    issued_at: int

    @classmethod
    def new(cls, now: int) -> LoginState:
        return cls(generate_token(32), generate_token(32), generate_token(64), now)


def bad_state() -> MalformedInputError:
    return MalformedInputError(
        code="sso_state_invalid",
        zh="登录请求无效、已使用或已过期，请重新登录",
        en="the sign-in request is invalid, already used or expired; please start again",
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(suite: CryptoSuite, payload: str) -> bytes:
    key = derived_key(suite, _STATE_KEY_LABEL, _PURPOSE)
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def sign_state(suite: CryptoSuite, st: LoginState) -> str:
    """The cookie's value: base64url(JSON) "." base64url(HMAC-SHA256)."""
    payload = _b64(
        json.dumps(
            {"s": st.state, "n": st.nonce, "v": st.verifier, "t": st.issued_at},
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_b64(_mac(suite, payload))}"


def unsign_state(suite: CryptoSuite, value: str | None, now: int) -> LoginState:
    """The state in a cookie this instance signed less than `STATE_MAX_AGE` ago; else
    MalformedInputError `sso_state_invalid`."""
    if not value or value.count(".") != 1:
        raise bad_state()
    payload, mac = value.split(".")
    try:
        if not hmac.compare_digest(_mac(suite, payload), _unb64(mac)):
            raise bad_state()
        data = json.loads(_unb64(payload))
        st = LoginState(str(data["s"]), str(data["n"]), str(data["v"]), int(data["t"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise bad_state() from exc
    if not 0 <= now - st.issued_at <= STATE_MAX_AGE:
        raise bad_state()
    return st
