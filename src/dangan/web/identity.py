"""TRANSITIONAL (goes when records' use cases take an `Actor`): the `Person` that
`records.reading` and `web/records.py` still expect, made from the access feature's
`CurrentPerson` (`dangan.access.identity`, where identification now lives)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from dangan.access import identity
from dangan.policy.decision import Subject
from dangan.usecase import Actor


@dataclass(frozen=True)
class Person:
    """A signed-in person for the span of one request, as `records.reading.Acting`."""

    user_id: int
    username: str
    subject: Subject
    ip: str
    user_agent: str

    @classmethod
    def of(cls, actor: Actor) -> Person:
        return cls(actor.user_id or 0, actor.name, actor.subject, actor.ip, actor.user_agent)


def _person(actor: identity.CurrentPerson) -> Person:
    return Person.of(actor)


CurrentPerson = Annotated[Person, Depends(_person)]
