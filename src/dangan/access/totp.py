"""Time-based one-time codes (TOTP, RFC 6238) as a second factor, set up by each person.

The secret is stored encrypted with the suite's cipher, under a key derived from the master
key (which never enters the database), and bound to its account by the cipher's associated
data. It takes effect only once the person shows a valid code from it (`confirm_totp`).
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

from dangan.access.keys import derived_key
from dangan.access.models import User
from dangan.access.ports import AccessDeps
from dangan.access.subjects import own_account
from dangan.core.errors import invalid
from dangan.usecase import Actor, UnitOfWork, use_case

_TOTP_KEY_LABEL = b"dangan/access/totp-key/v1\x00"
_PURPOSE = ("保护动态口令密钥", "protect TOTP secrets with")


def _key(deps: AccessDeps) -> bytes:
    return derived_key(deps.suite, _TOTP_KEY_LABEL, _PURPOSE, cipher_key=True)


def _aad(user: User) -> bytes:
    return f"totp:{user.id}".encode()


def _secret(deps: AccessDeps, user: User) -> str:
    if user.totp_secret is None:
        return ""
    return deps.suite.decrypt(_key(deps), bytes(user.totp_secret), _aad(user)).decode("ascii")


def code_step(deps: AccessDeps, user: User, code: str, at: datetime) -> int | None:
    """The time step of `user`'s secret that `code` belongs to, within one step either side
    of `at`; None if it is no such code (or the user has no secret)."""
    secret = _secret(deps, user)
    given = code.strip()
    # compare_digest refuses non-ASCII str; a code is digits only, so anything else is wrong.
    if not secret or not given.isascii() or not given.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    base = int(totp.timecode(at))
    for step in (base - 1, base, base + 1):
        if hmac.compare_digest(str(totp.generate_otp(step)).encode(), given.encode()):
            return step
    return None


@use_case("auth.totp_enrolment_started")
def enroll_totp(deps: AccessDeps, actor: Actor, *, now: datetime | None = None) -> str:
    """Start TOTP enrolment for oneself; returns the otpauth:// URI (shown as a QR code).

    Until `confirm_totp`, signing in needs no code.
    """
    secret = pyotp.random_base32()
    with UnitOfWork(deps, actor, at=now) as uow:
        user = own_account(uow.session, actor)
        user.totp_secret = deps.suite.encrypt(_key(deps), secret.encode("ascii"), _aad(user))
        user.totp_enabled = False
        user.totp_last_step = None
        uow.record("auth.totp_enrolment_started", target=f"user:{user.id}")
        uri: str = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Dangan")
    return uri


@use_case("auth.totp_enabled")
def confirm_totp(deps: AccessDeps, actor: Actor, code: str, *, now: datetime | None = None) -> None:
    """Switch TOTP on once the person shows a valid code of the enrolled secret
    (InvalidInputError `bad_totp` otherwise)."""
    with UnitOfWork(deps, actor, at=now) as uow:
        user = own_account(uow.session, actor)
        step = code_step(deps, user, code, uow.at)
        if step is None:
            raise invalid("code", "bad_totp", "动态验证码不正确", "the one-time code is wrong")
        user.totp_enabled = True
        user.totp_last_step = step
        uow.record("auth.totp_enabled", target=f"user:{user.id}")
