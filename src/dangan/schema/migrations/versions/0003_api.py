"""System tokens and submission tracking (dangan.web)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("scopes_text", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_system"), "api_tokens", ["system"], unique=False)
    op.create_table(
        "api_submissions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("response_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_submissions")),
        sa.UniqueConstraint(
            "system", "idempotency_key", name=op.f("uq_api_submissions_idempotency")
        ),
    )
    op.create_index(
        op.f("ix_api_submissions_record_id"), "api_submissions", ["record_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_api_submissions_record_id"), table_name="api_submissions")
    op.drop_table("api_submissions")
    op.drop_index(op.f("ix_api_tokens_system"), table_name="api_tokens")
    op.drop_table("api_tokens")
