"""Shared fixtures: real SQLite files and a real, throw-away PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

# Cheap argon2id for the suite's many sign-ins (see dangan.access.passwords); set before import.
os.environ.setdefault("DANGAN_ARGON2_PROFILE", "test")

from dangan.db.engine import make_engine

PG_ADMIN_DSN = os.environ.get(
    "DANGAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    return PG_ADMIN_DSN


def create_pg_database(admin_dsn: str) -> tuple[str, str]:
    """A fresh database; returns (its SQLAlchemy URL, its name)."""
    import psycopg

    name = f"dangan_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_pg_database(admin_dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dangan.db'}"


@pytest.fixture
def pg_url(pg_admin_dsn: str) -> Iterator[str]:
    url, name = create_pg_database(pg_admin_dsn)
    yield url
    drop_pg_database(pg_admin_dsn, name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dangan.db'}"
    else:
        admin = request.getfixturevalue("pg_admin_dsn")
        url, name = create_pg_database(admin)
        yield url
        drop_pg_database(admin, name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database (no tables): create what the test needs."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
