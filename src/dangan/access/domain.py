"""Pure rules of access: accounts (states, user names, lockout), sessions, the errors of
signing in, and business systems' tokens (format, hashing, scopes). The policy's vocabulary
(roles, actions, 密级, grants) is `dangan.policy.domain`.

Standard library and `dangan.core` only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from dangan.core.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    Problem,
    UnauthenticatedError,
    invalid,
)

# --- accounts ----------------------------------------------------------------------------

STATUS_ACTIVE = "active"
STATUS_DISABLED = "disabled"
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=10)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")

# --- sessions ------------------------------------------------------------------------------

# Idle and absolute limits are the instance's `[session]` settings.
TOUCH_INTERVAL = timedelta(seconds=30)  # how stale a session's idle clock may get


def session_token_hash(token: str) -> bytes:
    """What is stored of a session token (or a system token, hex-encoded): its SHA-256, so a
    database dump signs nobody in."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def aware(ts: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


# --- errors --------------------------------------------------------------------------------


_UNAUTHENTICATED: dict[str, tuple[str, str]] = {
    # One shape for every refused sign-in, so the answer reveals nothing about the account.
    "sign_in_failed": (
        "用户名或密码错误，或账户已被锁定或停用",
        "wrong user name or password, or the account is locked or disabled",
    ),
    # The password was right; a one-time code is needed as well.
    "totp_required": ("请输入动态验证码", "enter the one-time code from your authenticator"),
    # The session (or the account behind it) is unknown, ended or disabled.
    "session_expired": (
        "会话已过期或已退出，请重新登录",
        "the session has expired or was signed out; please sign in again",
    ),
    # What an HTTP request without a live session is told.
    "not_signed_in": (
        "未登录或会话已失效，请重新登录",
        "not signed in, or the session has ended; please sign in",
    ),
}


def unauthenticated(code: str) -> UnauthenticatedError:
    """Who asks is unknown: `sign_in_failed`, `totp_required`, `session_expired` or
    `not_signed_in`."""
    zh, en = _UNAUTHENTICATED[code]
    return UnauthenticatedError(code=code, zh=zh, en=en)


def person_required() -> ConflictError:
    """Something only a named person can do (a grant names its grantor; TOTP is one's own)."""
    return ConflictError(
        code="person_required",
        zh="此操作须由已登录的具名用户执行",
        en="only a signed-in person can do this",
    )


# --- business systems' tokens ---------------------------------------------------------------
#
# A token is `dgn_<id>_<secret>`; only the SHA-256 of the whole string is stored, so a
# database dump does not let anyone submit. The id lets lookup be by primary key, then the
# hash is compared in constant time.

SCOPE_SUBMIT = "submit"
SCOPE_READ_CATALOGUE = "read_catalogue"
SCOPE_READ_LEDGER = "read_ledger"  # checkpoints and proofs: no record content
SCOPES = (SCOPE_SUBMIT, SCOPE_READ_CATALOGUE, SCOPE_READ_LEDGER)
PREFIX = "dgn"
_DUMMY_HASH = hashlib.sha256(b"dgn_dummy").hexdigest()


def is_system_token(presented: str) -> bool:
    """Whether a bearer credential claims to be a system token (rather than a session)."""
    return presented.startswith(f"{PREFIX}_")


def new_token_id() -> str:
    return secrets.token_hex(8)


def new_plaintext(token_id: str) -> str:
    return f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"


def token_hash(plaintext: str) -> str:
    return session_token_hash(plaintext).hex()


def token_id_of(plaintext: str) -> str | None:
    """The id part of a well-formed token, else None. The secret may itself contain '_'."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[2]:
        return None
    tid = parts[1]
    if len(tid) != 16 or any(ch not in "0123456789abcdef" for ch in tid):
        return None
    return tid


def hash_matches(plaintext: str, stored: str | None) -> bool:
    """Constant-time; with no stored hash we still compare, so timing does not tell."""
    return hmac.compare_digest(token_hash(plaintext), stored or _DUMMY_HASH) and bool(stored)


def check_scopes(requested: Iterable[str]) -> list[str]:
    """The requested scopes, sorted and deduplicated; InvalidInputError if any is unknown or
    none is given."""
    out = sorted(set(requested))
    unknown = [s for s in out if s not in SCOPES]
    if unknown or not out:
        raise InvalidInputError.of(
            [
                Problem(
                    "scope",
                    "unknown_scope",
                    f"未知或缺少权限范围：{', '.join(unknown) or '（无）'}；"
                    f"可选 {', '.join(SCOPES)}",
                    f"unknown or missing scope: {', '.join(unknown) or '(none)'}; "
                    f"choose from {', '.join(SCOPES)}",
                )
            ]
        )
    return out


def check_system_name(system: str) -> str:
    """The system name, stripped; InvalidInputError unless 1-64 letters, digits or - _ ."""
    name = system.strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise invalid(
            "system",
            "invalid_system",
            "系统名须为 1–64 个字母、数字或 - _ .",
            "the system name must be 1–64 letters, digits or - _ .",
        )
    return name


def check_rate(rate: int) -> int:
    if rate < 0:
        raise invalid(
            "rate", "invalid_rate", "速率上限不得为负", "the rate limit may not be negative"
        )
    return rate


def denied(code: str) -> UnauthenticatedError | PermissionDeniedError:
    """The refusal of a presented token: who it is is unknown (401), or it may not do this
    (`scope_missing`, 403)."""
    texts = {
        "token_missing": ("缺少访问令牌（Authorization: Bearer …）", "missing bearer token"),
        "token_invalid": ("访问令牌无效", "the token is not valid"),
        "token_revoked": ("访问令牌已吊销", "the token was revoked"),
        "scope_missing": ("访问令牌无此操作权限", "the token lacks the scope for this"),
    }
    zh, en = texts[code]
    if code == "scope_missing":
        return PermissionDeniedError(code=code, zh=zh, en=en)
    return UnauthenticatedError(code=code, zh=zh, en=en)
