"""The composition root: builds every adapter and service from settings, in one place.

Nothing else reads settings or constructs adapters, so tests and tools get the same wiring
as production by calling `bootstrap(settings)`. `Container` satisfies every feature's port
(`RecordsDeps`, `AccessDeps`, …); use cases take those ports, never the container itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dangan.core.errors import ConfigurationError
from dangan.crypto import load_suite
from dangan.crypto.interfaces import CryptoSuite
from dangan.db.engine import is_sqlite, make_engine, make_sessionmaker
from dangan.db.locking import named_lock
from dangan.ledger import Ledger
from dangan.ledger.checkpoints import Checkpoint
from dangan.ledger.sequencer import LOCK_KEY, LOCK_NAME, Cosigner, Sequencer
from dangan.ledger.witnessing import Witnesses
from dangan.metadata import ArchivalCodeFormat, SchemaRegistry, load_schedule
from dangan.metadata.retention import RetentionSchedule
from dangan.records.columns import too_narrow
from dangan.search.interfaces import SearchIndex
from dangan.settings import Settings, load_settings
from dangan.storage import LocalBlobStore, OcflStorageRoot

DEFAULT_SCHEDULE = Path(__file__).parent / "metadata" / "data" / "retention_default.toml"


@dataclass
class Container:
    """Everything a use case may need; handed to API, UI, CLI and jobs alike."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    suite: CryptoSuite
    ledger: Ledger
    sequencer: Sequencer
    roots: list[OcflStorageRoot]
    schemas: SchemaRegistry
    schedule: RetentionSchedule
    code_format: ArchivalCodeFormat
    search: SearchIndex

    def close(self) -> None:
        self.engine.dispose()


def make_search_index(engine: Engine) -> SearchIndex:
    if is_sqlite(engine):
        from dangan.search.sqlite_fts import SqliteFtsIndex

        return SqliteFtsIndex()
    from dangan.search.postgres_fts import PostgresFtsIndex

    return PostgresFtsIndex()


def make_roots(settings: Settings) -> list[OcflStorageRoot]:
    roots = []
    for i, path in enumerate(settings.resolved_storage_roots):
        path.mkdir(parents=True, exist_ok=True)
        root = OcflStorageRoot(LocalBlobStore(path, name=f"root{i + 1}"))
        root.initialize()  # idempotent; checks an existing root uses our layout
        roots.append(root)
    return roots


def make_schemas(settings: Settings) -> SchemaRegistry:
    """The packaged element sets plus each configured category's own file; one that allows
    values its catalogue columns cannot hold is refused."""
    registry = SchemaRegistry.default()
    for cat in settings.categories:
        if cat.schema_file is not None:
            registry.register(cat.code, cat.schema_file)
        # Fail at start-up, not at the first submission.
        problems = too_narrow(registry.get(cat.code))
        if problems:
            raise ConfigurationError(
                code="schema_wider_than_catalogue",
                zh=f"门类 {cat.code} 的元数据方案允许的值超出数据库列的宽度",
                en=f"the element set of category {cat.code} allows values wider than the "
                "catalogue's columns",
                problems=problems,
            )
    return registry


def make_sequencer(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    ledger: Ledger,
    roots: list[OcflStorageRoot],
) -> Sequencer:
    """Group commit for the ledger, its copies in every root, and the witnesses if any."""
    data_dir = settings.resolved_data_dir
    cfg = settings.ledger
    return Sequencer(
        ledger,
        sessions,
        [r.store for r in roots],
        lambda: named_lock(engine, data_dir, LOCK_NAME, LOCK_KEY),
        batch_max=cfg.batch_max,
        linger=cfg.batch_linger_ms / 1000,
        cosign=make_cosigner(settings, sessions, ledger) if cfg.witnesses else None,
    )


def make_cosigner(
    settings: Settings, sessions: sessionmaker[Session], ledger: Ledger
) -> Cosigner | None:
    """Asks the configured witnesses to co-sign each new checkpoint (see ledger.witnessing).

    Each witness is sent a consistency proof from the size it last cosigned; a witness
    that lost track answers its size (409) and is asked once more from there.
    """
    witnesses = Witnesses(settings.ledger)

    def proof(old: int, new: int) -> list[bytes]:
        with sessions() as s:
            return ledger.consistency_proof(s, old, new)

    def cosign(cp: Checkpoint) -> Checkpoint:
        note = witnesses.cosign(cp.parsed(), None, proof)
        return replace(cp, note=note.render())

    return cosign


def bootstrap(settings: Settings | None = None) -> Container:
    settings = settings or load_settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    suite = load_suite(settings.resolved_key_dir, settings.crypto_suite)
    schedule_path = Path(settings.arrangement.retention_schedule or DEFAULT_SCHEDULE)
    sessions = make_sessionmaker(engine)
    ledger = Ledger(suite, origin=settings.instance_name)
    roots = make_roots(settings)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        suite=suite,
        ledger=ledger,
        sequencer=make_sequencer(settings, engine, sessions, ledger, roots),
        roots=roots,
        schemas=make_schemas(settings),
        schedule=load_schedule(schedule_path),
        code_format=ArchivalCodeFormat(
            settings.arrangement.code_template, settings.arrangement.piece_width
        ),
        search=make_search_index(engine),
    )


def open_container(*, recover: bool = True) -> Container:
    """The instance for a command or a web worker: settings → container. `recover` first
    finishes what a crash interrupted: queued ledger events, package metadata and the index,
    receipts."""
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
        from dangan.records.outbox import drain_outbox
        from dangan.records.receipts import relink

        c.sequencer.flush()  # events a crash left queued
        drain_outbox(c)
        relink(c)
    return c
