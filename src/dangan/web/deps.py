"""FastAPI dependencies as `Annotated` aliases: the runtime and the container. (Who is
calling moved to `dangan.access.identity`.)

`ApiRuntime` is what one web process holds besides the shared `Container`: API limits, the
in-memory rate limiter, and the thread pools that archive large uploads and send callbacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

from fastapi import Depends, Request

from dangan.adapters.http import ApiOptions, WebRuntime
from dangan.bootstrap import Container
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


def get_runtime(request: Request) -> ApiRuntime:
    runtime: ApiRuntime = request.app.state.runtime
    return runtime


def get_container(request: Request) -> Container:
    return get_runtime(request).container


RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
ContainerDep = Annotated[Container, Depends(get_container)]

__all__ = ["ApiOptions", "ApiRuntime"]
