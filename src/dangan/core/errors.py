"""Errors with a stable code and a message in zh-CN and en.

Every error a user or an integrating system can see is a `DanganError`. Validation collects
*every* problem before raising, so a producer fixes its metadata in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of the input."""

    field: str
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "zh": self.zh, "en": self.en}

    def __str__(self) -> str:
        return f"[{self.code}] {self.field}: {self.zh} / {self.en}"


@dataclass
class DanganError(Exception):
    """Base of all user-facing errors. `code` is stable; messages may be reworded."""

    code: str
    zh: str
    en: str
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"[{self.code}] {self.zh} / {self.en}"
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "problems": [p.as_dict() for p in self.problems],
        }


class InvalidInputError(DanganError):
    """The input is malformed or breaks a rule; nothing was written."""

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> InvalidInputError:
        found = list(problems)
        return cls(
            code="invalid_input",
            zh=f"输入有 {len(found)} 处问题，未作任何更改",
            en=f"the input has {len(found)} problem(s); nothing was changed",
            problems=found,
        )


class NotFoundError(DanganError):
    """The thing asked for does not exist (or may not be seen)."""


class ConflictError(DanganError):
    """The request conflicts with the current state."""


class IntegrityFailure(DanganError):
    """Stored content or a signature does not match what was recorded."""


class ConfigurationError(DanganError):
    """Settings or keys are missing or invalid."""
