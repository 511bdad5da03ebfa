"""What access's use cases hand back: plain values, never ORM rows, so nothing the caller
does afterwards can touch a session that has closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.models import AccessGrant, ApiToken, Department, RoleAssignment, User


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]  # sorted
    department_id: int | None
    department_code: str | None
    clearance: str
    status: str
    totp_enabled: bool
    sso: bool  # linked to an OIDC subject

    def as_dict(self) -> dict[str, Any]:
        """The body of `GET /api/v1/me` (and `user` of a sign-in's answer)."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "roles": list(self.roles),
            "department_id": self.department_id,
            "clearance": self.clearance,
            "totp_enabled": self.totp_enabled,
        }


def user_view(s: Session, user: User) -> UserView:
    roles = s.scalars(
        select(RoleAssignment.role)
        .where(RoleAssignment.user_id == user.id)
        .order_by(RoleAssignment.role)
    )
    dept = s.get(Department, user.department_id) if user.department_id is not None else None
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=tuple(roles),
        department_id=user.department_id,
        department_code=dept.code if dept else None,
        clearance=user.clearance,
        status=user.status,
        totp_enabled=user.totp_enabled,
        sso=user.oidc_subject is not None,
    )


@dataclass(frozen=True)
class SignedIn:
    """A session just opened: its token (shown to the person once) and who it is for."""

    token: str
    user: UserView


@dataclass(frozen=True)
class DepartmentView:
    id: int
    code: str
    name: str
    fonds_code: str
    parent_id: int | None

    @classmethod
    def of(cls, d: Department) -> DepartmentView:
        return cls(d.id, d.code, d.name, d.fonds_code, d.parent_id)


@dataclass(frozen=True)
class AccessGrantView:
    id: int
    user_id: int
    record_id: str
    actions: str  # sorted, comma-separated, as stored
    valid_from: datetime
    valid_until: datetime
    reason: str

    @classmethod
    def of(cls, g: AccessGrant) -> AccessGrantView:
        return cls(g.id, g.user_id, g.record_id, g.actions, g.valid_from, g.valid_until, g.reason)


@dataclass(frozen=True)
class TokenView:
    """A business system's token as stored (never its plaintext)."""

    id: str
    system: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenView:
        return cls(
            id=t.id,
            system=t.system,
            scopes=tuple(t.scopes_text.split()),
            rate_limit_per_minute=t.rate_limit_per_minute,
            created_at=t.created_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )
