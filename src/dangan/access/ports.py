"""What access's use cases need from the composition root, beyond every use case's `Deps`."""

from __future__ import annotations

from typing import Protocol

from dangan.crypto.interfaces import CryptoSuite
from dangan.settings import Settings
from dangan.usecase import Deps


class AccessDeps(Deps, Protocol):
    """The instance's settings (session limits, SSO, the default fonds) and its crypto suite
    (TOTP secrets and the SSO state are protected with keys derived from its master key)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def suite(self) -> CryptoSuite: ...
