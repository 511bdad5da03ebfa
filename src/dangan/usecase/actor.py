"""Who acts: one type for every use case, whoever calls it.

An actor is a signed-in person (or a visitor not yet signed in), a business system holding a
token, or Dangan itself — the operator's console on the server, recovery and rebuild. It
carries the policy's view of itself (`subject`) and, for requests, where it came from, which
every ledger event it causes records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dangan.policy.decision import Subject
from dangan.policy.domain import INTERNAL, PERSON, SYSTEM

VISITOR = "anonymous"


@dataclass(frozen=True)
class Actor:
    subject: Subject
    name: str
    ip: str = ""
    user_agent: str = ""

    @classmethod
    def person(cls, subject: Subject, ip: str = "", user_agent: str = "") -> Actor:
        """A signed-in person; `subject` comes from `dangan.access.subjects`."""
        return cls(subject, subject.username, ip[:45], user_agent[:300])

    @classmethod
    def visitor(cls, ip: str = "", user_agent: str = "") -> Actor:
        """Somebody not signed in (yet): no account, no roles."""
        return cls(Subject(user_id=None, roles=frozenset()), VISITOR, ip[:45], user_agent[:300])

    @classmethod
    def system(cls, name: str, scopes: Iterable[str], ip: str = "", user_agent: str = "") -> Actor:
        """A business system, with the scopes of the token it presented."""
        subject = Subject(
            user_id=None,
            roles=frozenset(),
            username=name,
            kind=SYSTEM,
            scopes=frozenset(scopes),
        )
        return cls(subject, name, ip[:45], user_agent[:300])

    @classmethod
    def internal(cls, name: str = "dangan") -> Actor:
        """Dangan itself; `name` says which part (e.g. "cli", "system:setup", "system:oidc")."""
        return cls(Subject(user_id=None, roles=frozenset(), username=name, kind=INTERNAL), name)

    @property
    def kind(self) -> str:
        return self.subject.kind

    @property
    def user_id(self) -> int | None:
        return self.subject.user_id if self.kind == PERSON else None

    @property
    def system_name(self) -> str | None:
        return self.name if self.kind == SYSTEM else None

    @property
    def ledger_name(self) -> str:
        """The `actor` of the ledger events this actor causes."""
        return f"system:{self.name}" if self.kind == SYSTEM else self.name

    def where(self) -> dict[str, str]:
        """Where a request came from, for the details of its ledger events (none for Dangan)."""
        if self.kind == INTERNAL or not (self.ip or self.user_agent):
            return {}
        return {"ip": self.ip, "user_agent": self.user_agent}
