"""What the auditor's use cases need."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from dangan.settings import Settings
from dangan.storage import OcflStorageRoot
from dangan.usecase import Deps


class AuditDeps(Deps, Protocol):
    @property
    def engine(self) -> Engine: ...

    @property
    def roots(self) -> list[OcflStorageRoot]: ...

    @property
    def settings(self) -> Settings: ...
