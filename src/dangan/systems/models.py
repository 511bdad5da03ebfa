"""Tables of the system API: tokens, and submissions tracked for idempotency and async work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dangan.db.base import Base


class ApiToken(Base):
    """A bearer token of one business system; the plaintext is shown once and never stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    system: Mapped[str] = mapped_column(String(64), index=True)
    scopes_text: Mapped[str] = mapped_column(String(200))  # space-separated, sorted
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)

    @property
    def scopes(self) -> list[str]:
        return self.scopes_text.split()

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "system": self.system,
            "scopes": self.scopes,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }
