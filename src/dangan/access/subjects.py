"""TEMPORARY in the lead's branch (the access helper owns the real one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dangan.access.models import User
from dangan.access.services import load_subject
from dangan.core.errors import NotFoundError
from dangan.usecase import Actor


def actor_for_username(deps: Any, username: str) -> Actor:
    with deps.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFoundError(
                code="user_not_found", zh=f"用户 {username} 不存在", en=f"no user {username}"
            )
        return Actor.person(load_subject(s, user))
