"""Tables of the system API: submissions tracked for idempotency and async work. (The
tokens' table moved to `dangan.access.models`.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dangan.db.base import Base


class ApiSubmission(Base):
    """One POST that asked for idempotency or went to the background.

    `response_json` is what the client got (or will get): the receipt, or a problem. The
    record itself stays the truth; this row only replays answers and reports progress.
    """

    __tablename__ = "api_submissions"
    __table_args__ = (
        UniqueConstraint("system", "idempotency_key", name="uq_api_submissions_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # processing / archived / … / rejected
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
