"""What intake needs: the archive's dependencies, and a way to run work later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from dangan.records.ports import RecordsDeps


class IntakeDeps(RecordsDeps, Protocol):
    pass


class Dispatch(Protocol):
    """Where background archiving and callback deliveries run (the web process's thread
    pools; inline for the CLI)."""

    def in_background(self, fn: Callable[..., Any], *args: Any) -> None: ...

    def notify(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...


class Inline:
    """Runs everything at once, in the caller's thread."""

    def in_background(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def notify(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        fn(*args, **kwargs)
