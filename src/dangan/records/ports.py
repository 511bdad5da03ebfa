"""What the archive's use cases need from the composition root."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from dangan.crypto.interfaces import CryptoSuite
from dangan.metadata import ArchivalCodeFormat, SchemaRegistry
from dangan.metadata.retention import RetentionSchedule
from dangan.search.interfaces import SearchIndex
from dangan.settings import Settings
from dangan.storage import OcflStorageRoot
from dangan.usecase import Deps


class RecordsDeps(Deps, Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def suite(self) -> CryptoSuite: ...

    @property
    def roots(self) -> list[OcflStorageRoot]: ...

    @property
    def schemas(self) -> SchemaRegistry: ...

    @property
    def schedule(self) -> RetentionSchedule: ...

    @property
    def code_format(self) -> ArchivalCodeFormat: ...

    @property
    def search(self) -> SearchIndex: ...
