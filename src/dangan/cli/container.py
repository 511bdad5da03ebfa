"""Opening the instance for a command: settings → container, with recovery of the outbox."""

from __future__ import annotations

from dangan.bootstrap import Container, bootstrap
from dangan.core.errors import ConfigurationError
from dangan.records.packaging import drain_outbox
from dangan.settings import load_settings


def open_container(*, recover: bool = True) -> Container:
    settings = load_settings()
    if not settings.resolved_key_dir.exists():
        raise ConfigurationError(
            code="not_initialised",
            zh=f"实例尚未初始化（{settings.resolved_data_dir}），请先运行 dangan init",
            en=f"the instance at {settings.resolved_data_dir} is not initialised; "
            "run `dangan init` first",
        )
    c = bootstrap(settings)
    if recover:
        # Finish after-commit work a crash interrupted (package metadata, index).
        drain_outbox(c)
    return c
