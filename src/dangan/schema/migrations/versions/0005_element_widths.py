"""Catalogue columns as wide as the metadata elements they hold: title, archival code, org code;
author unbounded (a repeatable element, joined)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (column, width before, width after); None is TEXT.
WIDENED: tuple[tuple[str, int, int | None], ...] = (
    ("archival_code", 80, 100),
    ("org_code", 20, 50),
    ("title", 500, 1000),
    ("author", 200, None),
)


def _type(width: int | None) -> sa.types.TypeEngine[str]:
    return sa.Text() if width is None else sa.String(length=width)


def upgrade() -> None:
    # On SQLite batch mode copies the table (see `dangan.schema.migrate` for its keys).
    with op.batch_alter_table("records") as batch:
        for name, before, after in WIDENED:
            batch.alter_column(name, existing_type=_type(before), type_=_type(after))


def downgrade() -> None:
    # Values longer than the old widths would not fit: PostgreSQL refuses, and nothing is cut.
    with op.batch_alter_table("records") as batch:
        for name, before, after in WIDENED:
            batch.alter_column(name, existing_type=_type(after), type_=_type(before))
