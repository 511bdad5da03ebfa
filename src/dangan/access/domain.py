"""Pure rules of accounts: states, user names, lockout and session limits, the errors of
signing in, and the role labels people type. The policy's vocabulary (roles, actions, 密级,
grants) is `dangan.policy.domain`; the rules of system tokens are `tokens_domain`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from dangan.core.errors import ConflictError, UnauthenticatedError
from dangan.policy.domain import ROLE_NAMES, role_label

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


# --- roles as people type them ---------------------------------------------------------------

_ROLE_BY_LABEL = {zh: role for role, (zh, _en) in ROLE_NAMES.items()}


def role_from_label(value: str) -> str:
    """The role a console user means: its key (`archivist`) or its Chinese label (档案员).
    Anything else comes back unchanged, for the use case to refuse as an unknown role."""
    text = value.strip()
    return _ROLE_BY_LABEL.get(text, text)


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


def separation_of_duties(role: str, clash: str) -> ConflictError:
    """The role would combine duties 三员分立 keeps apart."""
    return ConflictError(
        code="separation_of_duties",
        zh=f"三员分立：{role_label(role)}不能与{role_label(clash)}由同一账户担任",
        en=f"separation of duties: one account cannot hold both {role} and {clash}",
    )


def person_required() -> ConflictError:
    """Something only a named person can do (a grant names its grantor; TOTP is one's own)."""
    return ConflictError(
        code="person_required",
        zh="此操作须由已登录的具名用户执行",
        en="only a signed-in person can do this",
    )
