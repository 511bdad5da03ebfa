"""Fonds and categories from settings into the catalogue."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from dangan.arrangement.models import Category, Fonds
from dangan.settings import Settings


def ensure_reference_data(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Fonds and categories from settings into the catalogue (idempotent)."""
    with sessions.begin() as session:
        for f in settings.fonds:
            if session.get(Fonds, f.code) is None:
                session.add(Fonds(code=f.code, name=f.name))
        for cat in settings.categories:
            if session.get(Category, cat.code) is None:
                session.add(Category(code=cat.code, name=cat.name))
