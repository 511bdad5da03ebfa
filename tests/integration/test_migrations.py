"""The Alembic migrations create exactly what the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from dangan.schema.migrate import upgrade
from dangan.schema.tables import metadata

SEARCH_TABLES = {"search_doc", "search_fts"}


def test_migrated_schema_matches_models(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)

    def _is_search(d: object) -> bool:
        # The full-text tables are created from the index backend's DDL, not from models.
        obj = d[1] if isinstance(d, tuple) else None
        table = getattr(obj, "table", obj)
        name = str(getattr(table, "name", ""))
        return name in SEARCH_TABLES or name.startswith("search_fts")

    assert [d for d in diff if not _is_search(d)] == []
