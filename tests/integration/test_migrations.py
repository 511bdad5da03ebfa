"""The Alembic migrations create exactly what the models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

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


def _record_at_0004(engine: Engine) -> None:
    """A record with a file row pointing at it, written by the schema of revision 0004."""
    at = datetime(2024, 3, 5, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO fonds (code, name) VALUES ('Z109', '示范省档案局')"))
        conn.execute(text("INSERT INTO categories (code, name) VALUES ('WS', '文书')"))
        conn.execute(
            text(
                "INSERT INTO records (id, fonds_code, category_code, status, archival_code, "
                "org_code, title, author, source_system, source_id, submission_digest, "
                "version, received_at, classification_json) VALUES ('r1', 'Z109', 'WS', "
                "'archived', 'Z109-WS·2024-D30-BGS-0001', 'BGS', :title, '示范省应急管理厅', "
                "'oa', 'OA-1', :digest, 1, :at, '{}')"
            ),
            {"title": "题" * 500, "digest": "0" * 64, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO record_files (record_id, seq, role, name, size, sha256, sm3, mime, "
                "format_name, preferred_format) VALUES ('r1', 1, 'main', '正文.txt', 3, "
                ":digest, :digest, 'text/plain', 'TXT', true)"
            ),
            {"digest": "0" * 64},
        )


def test_0005_widens_columns_of_an_existing_catalogue(engine: Engine) -> None:
    """From 0004 with rows (and rows pointing at them): the rows stay, the columns widen, and
    a title of the element's maximum length can be written."""
    upgrade(engine, "0004")
    _record_at_0004(engine)
    upgrade(engine)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT title, author, archival_code FROM records")).one()
        assert row == ("题" * 500, "示范省应急管理厅", "Z109-WS·2024-D30-BGS-0001")
        assert conn.execute(text("SELECT count(*) FROM record_files")).scalar() == 1
        conn.execute(text("UPDATE records SET title = :t"), {"t": "题" * 1000})
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # on again
    columns = inspect(engine).get_columns("records")
    widths = {c["name"]: getattr(c["type"], "length", None) for c in columns}
    assert (widths["title"], widths["archival_code"], widths["org_code"]) == (1000, 100, 50)
