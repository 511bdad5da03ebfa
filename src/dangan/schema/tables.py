"""Import every feature's models so `Base.metadata` is complete (for Alembic and tests)."""

from __future__ import annotations

import dangan.access.models
import dangan.arrangement.models
import dangan.intake.models
import dangan.ledger.models
import dangan.records.models  # noqa: F401
from dangan.db.base import Base

metadata = Base.metadata
