"""Ledger group commit and signed notes: queued events, entries' queue ids, checkpoint notes

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_pending",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_pending")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("pending_id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_ledger_entries_pending_id"), ["pending_id"])
    with op.batch_alter_table("ledger_checkpoints") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_checkpoints") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("uq_ledger_entries_pending_id"), type_="unique")
        batch.drop_column("pending_id")
    op.drop_table("ledger_pending")
