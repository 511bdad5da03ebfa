"""FastAPI dependencies as `Annotated` aliases: the runtime, the container, the caller.

`ApiRuntime` is what one web process holds besides the shared `Container`: API limits, the
in-memory rate limiter, and the thread pools that archive large uploads and send callbacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dangan.bootstrap import Container
from dangan.systems.domain import SCOPE_READ_CATALOGUE, SCOPE_SUBMIT, SlidingWindowLimiter
from dangan.systems.models import ApiToken
from dangan.systems.services import authenticate
from dangan.web.spool import SpoolLimits

MiB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class ApiOptions:
    """Limits of the HTTP API; defaults from `DANGAN_WEB_*` environment variables."""

    max_request_bytes: int = 2048 * MiB
    async_threshold_bytes: int = 64 * MiB  # larger uploads are archived in the background
    callback_attempts: int = 5
    callback_backoff_seconds: float = 1.0
    background_workers: int = 2

    @classmethod
    def from_env(cls) -> ApiOptions:
        d = cls()
        return cls(
            max_request_bytes=_env_int("DANGAN_WEB_MAX_REQUEST_BYTES", d.max_request_bytes),
            async_threshold_bytes=_env_int(
                "DANGAN_WEB_ASYNC_THRESHOLD_BYTES", d.async_threshold_bytes
            ),
            callback_attempts=_env_int("DANGAN_WEB_CALLBACK_ATTEMPTS", d.callback_attempts),
            background_workers=_env_int("DANGAN_WEB_BACKGROUND_WORKERS", d.background_workers),
        )


class ApiRuntime:
    """Per-process state of the web app around the shared container."""

    def __init__(self, container: Container, options: ApiOptions) -> None:
        self.container = container
        self.options = options
        self.limiter = SlidingWindowLimiter()
        self.spool_root: Path = container.settings.resolved_data_dir / "spool"
        self.spool_root.mkdir(parents=True, exist_ok=True)
        # Separate pools: a slow callback receiver must not hold up archiving.
        self._archiver = ThreadPoolExecutor(options.background_workers, "dangan-archive")
        self._notifier = ThreadPoolExecutor(2, "dangan-callback")

    @property
    def limits(self) -> SpoolLimits:
        return SpoolLimits(
            max_file_bytes=self.container.settings.storage.max_file_bytes,
            max_total_bytes=self.options.max_request_bytes,
        )

    def in_background(self, fn: Callable[..., Any], *args: Any) -> None:
        self._archiver.submit(fn, *args)

    def notify(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._notifier.submit(fn, *args, **kwargs)

    def close(self) -> None:
        """Finish queued archiving first (its callbacks are queued as it finishes)."""
        self._archiver.shutdown(wait=True)
        self._notifier.shutdown(wait=True)


@dataclass(frozen=True)
class Caller:
    """An authenticated business system. `secret` is its token, kept only for this request
    (it keys the HMAC of callbacks)."""

    token: ApiToken
    secret: str

    @property
    def system(self) -> str:
        return self.token.system


def get_runtime(request: Request) -> ApiRuntime:
    runtime: ApiRuntime = request.app.state.runtime
    return runtime


def get_container(request: Request) -> Container:
    return get_runtime(request).container


RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
ContainerDep = Annotated[Container, Depends(get_container)]

_bearer = HTTPBearer(
    auto_error=False,
    description="系统令牌 / system token: `Authorization: Bearer dgn_<id>_<secret>`",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _caller_with(
    *scopes: str,
) -> Callable[[ApiRuntime, HTTPAuthorizationCredentials | None], Caller]:
    # A sync dependency: FastAPI runs it in the thread pool, so DB work does not block the loop.
    def dependency(rt: RuntimeDep, creds: BearerDep) -> Caller:
        secret = creds.credentials if creds else None
        token = authenticate(rt.container, secret, scopes)
        rt.limiter.check(token.id, token.rate_limit_per_minute)
        return Caller(token, secret or "")

    return dependency


SubmitCaller = Annotated[Caller, Depends(_caller_with(SCOPE_SUBMIT))]
ReadCaller = Annotated[Caller, Depends(_caller_with(SCOPE_SUBMIT, SCOPE_READ_CATALOGUE))]
