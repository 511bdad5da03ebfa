"""What every use case needs from the composition root. Features extend it with their own
Protocol (e.g. `dangan.records.ports.RecordsDeps`); `dangan.bootstrap.Container` satisfies
them all, and no use case imports the container itself."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from dangan.ledger.sequencer import Sequencer
from dangan.ledger.store import Ledger


class Deps(Protocol):
    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def sequencer(self) -> Sequencer: ...
