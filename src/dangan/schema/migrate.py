"""Schema migrations with Alembic, configured in code so no alembic.ini is needed.

SQLite cannot change a column in place: Alembic's batch mode copies the table, drops the
old one and renames the copy. Rows of other tables point at the table meanwhile, so
migrations run as SQLite prescribes for such changes: foreign keys off, then
`PRAGMA foreign_key_check` before the commit, then on again.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from dangan.core.errors import IntegrityFailure

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _foreign_keys(conn, on=False)
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    _check_references(conn)
        finally:
            if sqlite:
                _foreign_keys(conn, on=True)


def _foreign_keys(conn: Connection, *, on: bool) -> None:
    # Outside a transaction, or SQLite ignores it: on the driver's connection, which is in
    # autocommit mode (`dangan.db.engine` issues BEGIN itself).
    driver = conn.connection.driver_connection
    if driver is not None:
        driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_references(conn: Connection) -> None:
    broken = conn.execute(text("PRAGMA foreign_key_check")).all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise IntegrityFailure(
            code="migration_broke_references",
            zh=f"迁移后表 {'、'.join(tables)} 有 {len(broken)} 行引用不存在的行，未提交",
            en=f"after migrating, {len(broken)} row(s) of {', '.join(tables)} point at "
            "missing rows; nothing was committed",
        )


def revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a migration against the current models."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
