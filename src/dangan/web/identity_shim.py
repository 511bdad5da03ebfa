"""TEMPORARY until the access branch lands."""

from typing import Annotated

from fastapi import Depends, Request

from dangan.access.identity import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    current_person,
    session_token,
)
from dangan.usecase import Actor


class _P:
    def __init__(self, a: Actor) -> None:
        self.user_id: int = a.user_id or 0
        self.ip = a.ip
        self.user_agent = a.user_agent


def _person(request: Request) -> _P:
    return _P(current_person(request))


CurrentPerson = Annotated[_P, Depends(_person)]
__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "CurrentPerson", "session_token"]
