"""Instance life cycle: initialise, migrate, recover after a crash, rebuild from storage."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, MetaData, select, text
from sqlalchemy.exc import SQLAlchemyError

from dangan.arrangement.reference import ensure_reference_data
from dangan.bootstrap import Container, bootstrap
from dangan.crypto import init_keys
from dangan.db.engine import make_engine
from dangan.ledger import copies
from dangan.records.models import Record
from dangan.records.outbox import drain_outbox
from dangan.records.rebuild import RebuildReport, rebuild_catalogue
from dangan.records.receipts import relink
from dangan.schema.migrate import upgrade
from dangan.settings import Settings, load_settings
from dangan.usecase import Actor


def initialise(settings: Settings | None = None, *, if_needed: bool = False) -> str:
    """Keys (never in the database), schema, reference data, storage roots."""
    settings = settings or load_settings()
    key_dir = settings.resolved_key_dir
    if (key_dir / "keys.json").exists():
        if not if_needed:
            init_keys(key_dir, settings.crypto_suite)  # raises keys_exist, with the message
    else:
        init_keys(key_dir, settings.crypto_suite)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    c = bootstrap(settings)
    try:
        ensure_reference_data(c.sessions, c.settings)
        for root in c.roots:
            root.initialize()
    finally:
        c.close()
    return (
        f"已初始化 initialised: 数据 data {settings.resolved_data_dir}，"
        f"密钥 keys {key_dir}（{settings.crypto_suite}），"
        f"存储根 roots {len(settings.resolved_storage_roots)}"
    )


def recover_instance(c: Container | None = None) -> dict[str, Any]:
    """Put back ledger entries cut from the database's end (when the copies prove them),
    sequence queued events, bring the copies up to date, finish outbox work and receipts,
    then discard staged content no committed record owns."""
    c = c or bootstrap()
    with c.sessions.begin() as session:
        restored = copies.restore_tail(session, c.ledger, [r.store for r in c.roots])
    sequenced = c.sequencer.flush()
    drained = drain_outbox(c)
    relinked = relink(c)
    with c.sessions() as session:
        known = set(session.scalars(select(Record.id)))
    discarded = []
    swept = 0
    for root in c.roots:
        sweep = getattr(root.store, "sweep_temp_files", None)  # local disk only
        if sweep is not None:
            swept += sweep()
        committed = {root.object_root(rid) for rid in known}
        for obj in root.incomplete_objects():
            if obj.root not in committed:
                root.discard_incomplete_at(obj.root)
                discarded.append(f"{root.store.name}:{obj.object_id or obj.root}")
    return {
        "ledger_entries_restored": restored,
        "ledger_events_sequenced": sequenced,
        "receipts_completed": relinked,
        "outbox_completed": drained,
        "orphans_discarded": discarded,
        "temp_files_removed": swept,
    }


def drop_everything(engine: Engine) -> None:
    """Drop every table (catalogue, ledger, index), as if the database were lost."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            return
        virtual = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL%'")
        ).scalars()
        for name in list(virtual):
            conn.execute(text(f'DROP TABLE "{name}"'))
        reflected = MetaData()
        reflected.reflect(conn)
        reflected.drop_all(conn)


def reset_catalogue(c: Container) -> None:
    drop_everything(c.engine)
    upgrade(c.engine)


def rebuild_from_storage(
    actor: Actor, progress: Callable[[int, int], None] | None = None
) -> RebuildReport:
    """Drop the catalogue and recreate it from the storage roots (see records.rebuild)."""
    c = bootstrap()
    try:
        # If the database is still there, bring the ledger copies up to date first; if it is
        # lost or damaged, storage is all there is.
        with contextlib.suppress(SQLAlchemyError):
            recover_instance(c)
        reset_catalogue(c)
        return rebuild_catalogue(c, actor, progress)
    finally:
        c.close()
