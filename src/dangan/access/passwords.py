"""Password hashing (argon2id) and the password rules.

Hashes are argon2id in the PHC string form, which carries its own parameters, so raising
the parameters later only needs `needs_rehash` at the next successful sign-in.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dangan.core.errors import Problem

MIN_LENGTH = 12
MIN_CLASSES = 3


def _hasher() -> PasswordHasher:
    # The test suite signs people in thousands of times; DANGAN_ARGON2_PROFILE=test (set only
    # by tests/conftest.py) keeps argon2id but at minimal cost. Production never sets it.
    if os.environ.get("DANGAN_ARGON2_PROFILE") == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    # RFC 9106 "second recommended" (low-memory) parameters, argon2-cffi's defaults.
    return PasswordHasher(type=Type.ID)


HASHER = _hasher()


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(password)


def verify_password(stored: str | None, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """True if `password` matches; an absent or malformed hash is simply no match.

    With no stored hash, a dummy hash is verified so the time taken does not tell whether
    the account exists or has a password.
    """
    target = stored if stored else _dummy_hash()
    try:
        ok = hasher.verify(target, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and bool(stored)


def needs_rehash(stored: str, hasher: PasswordHasher = HASHER) -> bool:
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def password_problems(password: str, username: str = "") -> list[Problem]:
    """Every rule the password breaks (empty when it is acceptable)."""
    problems: list[Problem] = []
    if len(password) < MIN_LENGTH:
        problems.append(
            Problem(
                "password",
                "password_too_short",
                f"密码至少 {MIN_LENGTH} 个字符",
                f"the password needs at least {MIN_LENGTH} characters",
            )
        )
    classes = sum(
        (
            any(ch.islower() for ch in password),
            any(ch.isupper() for ch in password),
            any(ch.isdigit() for ch in password),
            any(not ch.isalnum() for ch in password),
        )
    )
    if classes < MIN_CLASSES:
        problems.append(
            Problem(
                "password",
                "password_too_simple",
                "密码须包含小写字母、大写字母、数字、符号中的至少三类",
                "the password needs at least three of: lower case, upper case, digits, symbols",
            )
        )
    name = username.strip().casefold()
    folded = password.casefold()
    # a short name (e.g. "li") inside a long password is coincidence, not a weakness
    if name and (folded == name or (len(name) >= 4 and name in folded)):
        problems.append(
            Problem(
                "password",
                "password_contains_username",
                "密码不能包含用户名",
                "the password must not contain the user name",
            )
        )
    return problems
