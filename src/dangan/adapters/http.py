"""The HTTP side every feature's routes share: the per-process runtime, typed access to the
use cases' dependencies, who is calling from where, and OpenAPI entries for problem answers.

`WebRuntime` is what one web process holds besides the composition root's container: the
API's limits, the in-memory rate limiter and the thread pools that archive large uploads and
send callbacks. `dangan.web.app.create_app` builds it; routes reach it through `runtime()`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from fastapi import Request

from dangan.adapters.problems import PROBLEM_JSON
from dangan.adapters.ratelimit import SlidingWindowLimiter
from dangan.settings import Settings, WebSettings

T = TypeVar("T")


@dataclass(frozen=True)
class ApiOptions:
    """Limits of the HTTP API; by default the instance's `[web]` settings."""

    max_request_bytes: int = 2048 * 1024 * 1024
    async_threshold_bytes: int = 64 * 1024 * 1024  # larger uploads are archived in background
    callback_attempts: int = 5
    callback_backoff_seconds: float = 1.0
    background_workers: int = 2

    @classmethod
    def of(cls, web: WebSettings) -> ApiOptions:
        return cls(
            max_request_bytes=web.max_request_bytes,
            async_threshold_bytes=web.async_threshold_bytes,
            callback_attempts=web.callback_attempts,
            callback_backoff_seconds=web.callback_backoff_seconds,
            background_workers=web.background_workers,
        )


class WebRuntime:
    """Per-process state of the web app around the shared dependencies (`deps`)."""

    def __init__(self, deps: object, settings: Settings, options: ApiOptions) -> None:
        self.deps = deps
        self.settings = settings
        self.options = options
        self.limiter = SlidingWindowLimiter()
        # Separate pools: a slow callback receiver must not hold up archiving.
        self._archiver = ThreadPoolExecutor(options.background_workers, "dangan-archive")
        self._notifier = ThreadPoolExecutor(2, "dangan-callback")
        self.extras: dict[str, Any] = {}  # per-process caches of features (OIDC client …)

    def in_background(self, fn: Callable[..., Any], *args: Any) -> None:
        self._archiver.submit(fn, *args)

    def notify(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._notifier.submit(fn, *args, **kwargs)

    def close(self) -> None:
        """Finish queued archiving first (its callbacks are queued as it finishes)."""
        self._archiver.shutdown(wait=True)
        self._notifier.shutdown(wait=True)


def runtime(request: Request) -> WebRuntime:
    rt: WebRuntime = request.app.state.runtime
    return rt


def deps_for(port: type[T]) -> Callable[[Request], T]:
    """A FastAPI dependency handing a route the use cases' dependencies, typed as the
    feature's own port (a Protocol the composition root's container satisfies)."""

    def dependency(request: Request) -> T:
        return cast(T, runtime(request).deps)

    dependency.__name__ = f"deps_{port.__name__}"
    return dependency


def client_of(request: Request) -> tuple[str, str]:
    """(IP, user agent) of the caller, as the ledger records them."""
    ip = request.client.host if request.client else ""
    return ip, request.headers.get("user-agent", "")[:300]


def problem_docs(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers, e.g. `problem_docs(s401="...")`."""
    return {
        int(k[1:]): {"description": v, "content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
        for k, v in by_status.items()
    }
