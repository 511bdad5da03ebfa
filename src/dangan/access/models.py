"""Tables of access control: departments, accounts, roles, sign-in sessions, grants, the
per-record attributes the policy reads (`record_access`) and business systems' tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dangan.access.domain import STATUS_ACTIVE
from dangan.db.base import Base
from dangan.policy.domain import LOWEST_CLEARANCE


class Department(Base):
    """A unit of the holding agency; `parent_id` makes the tree."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("fonds_code", "code", name="uq_departments_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    fonds_code: Mapped[str] = mapped_column(ForeignKey("fonds.code"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # argon2id PHC string; None for accounts that only sign in through OIDC
    password_hash: Mapped[str | None] = mapped_column(String(255))
    clearance: Mapped[str] = mapped_column(String(8), default=LOWEST_CLEARANCE)
    status: Mapped[str] = mapped_column(String(10), default=STATUS_ACTIVE)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # TOTP secret encrypted with the suite's cipher under a key derived from the master key
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # time step of the last accepted code, so a code cannot be replayed within its window
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoleAssignment(Base):
    __tablename__ = "role_assignments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuthSession(Base):
    """A signed-in session; only the SHA-256 of its token is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idle_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str] = mapped_column(String(45), default="")
    last_ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class AccessGrant(Base):
    """Time-limited access of one user to one record."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    actions: Mapped[str] = mapped_column(String(200))  # sorted, comma-separated
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RecordAccess(Base):
    """What the policy needs of a record; written at ingest, one row per record.

    A record without this row is visible to nobody (the filter joins on it).
    """

    __tablename__ = "record_access"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    security_classification: Mapped[str] = mapped_column(String(8), index=True)  # 密级
    openness: Mapped[str] = mapped_column(String(4))  # 开放 | 控制
    owner_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id"), index=True
    )


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
