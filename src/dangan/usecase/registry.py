"""`@use_case(...)`: marks a function as one user action and names the ledger events it may
append. Each feature lists its use cases in `services.py`; a test checks that every one takes
an `Actor` and that each writing one appends one of its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__dangan_use_case__"


@dataclass(frozen=True)
class UseCaseInfo:
    name: str
    events: frozenset[str]  # empty: the use case reads and records nothing

    @property
    def writes(self) -> bool:
        return bool(self.events)


def use_case(*events: str) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        setattr(fn, _ATTR, UseCaseInfo(f"{fn.__module__}.{fn.__qualname__}", frozenset(events)))
        return fn

    return mark


def use_case_info(fn: object) -> UseCaseInfo | None:
    info = getattr(fn, _ATTR, None)
    return info if isinstance(info, UseCaseInfo) else None
