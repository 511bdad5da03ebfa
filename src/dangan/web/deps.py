"""FastAPI dependencies as `Annotated` aliases: the runtime, the container, the caller.

`ApiRuntime` is what one web process holds besides the shared `Container`: API limits, the
in-memory rate limiter, and the thread pools that archive large uploads and send callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dangan.adapters.http import ApiOptions, WebRuntime
from dangan.bootstrap import Container
from dangan.systems.domain import SCOPE_READ_CATALOGUE, SCOPE_SUBMIT
from dangan.systems.models import ApiToken
from dangan.systems.services import authenticate
from dangan.web.spool import SpoolLimits

MiB = 1024 * 1024


class ApiRuntime(WebRuntime):
    """Transitional: the runtime with the submission route's spool (moves to intake)."""

    @property
    def container(self) -> Container:
        return cast(Container, self.deps)

    @property
    def spool_root(self) -> Path:
        root = self.settings.resolved_data_dir / "spool"
        root.mkdir(parents=True, exist_ok=True)
        return root

    @property
    def limits(self) -> SpoolLimits:
        return SpoolLimits(
            max_file_bytes=self.settings.storage.max_file_bytes,
            max_total_bytes=self.options.max_request_bytes,
        )


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


__all__ = ["ApiOptions", "ApiRuntime"]
