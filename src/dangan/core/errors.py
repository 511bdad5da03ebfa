"""The one family of errors, each with a stable code and a message in zh-CN and en.

Every error a user or an integrating system can see is a `DanganError` of one of the kinds
below. A kind says what went wrong in terms of the request (not found, not allowed, …); the
`code` says exactly what. No error carries a transport status: the web layer maps kinds to
HTTP statuses (`dangan.web.errors`) and the CLI maps every kind to exit code 2.

Validation collects *every* problem before raising, so a producer fixes its input in one
round trip.
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
    """Base of all user-facing errors. `code` is stable; messages may be reworded.

    `server_side` kinds are Dangan's fault, not the caller's: a retry may succeed.
    """

    server_side = False  # a class attribute of each kind, not a field

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
    """The input is well-formed but breaks a rule; nothing was written."""

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> InvalidInputError:
        found = list(problems)
        return cls(
            code="invalid_input",
            zh=f"输入有 {len(found)} 处问题，未作任何更改",
            en=f"the input has {len(found)} problem(s); nothing was changed",
            problems=found,
        )


class MalformedInputError(DanganError):
    """The input cannot be read at all: bad JSON, a truncated upload, a broken multipart."""


class TooLargeError(DanganError):
    """The input exceeds a size limit (a file, a request, an unpacked package)."""


class UnsupportedFormatError(DanganError):
    """The input comes in a form Dangan does not take (e.g. an unknown content type)."""


class NotFoundError(DanganError):
    """The thing asked for does not exist — or may not be seen, which answers the same."""


class ConflictError(DanganError):
    """The request conflicts with the current state (a reused id, a rule of 三员分立 …)."""


class UnauthenticatedError(DanganError):
    """Who is asking is unknown: no credentials, wrong ones, or an ended session."""


class PermissionDeniedError(DanganError):
    """Who is asking is known but may not do this; `code` is the policy's reason code."""


@dataclass
class RateLimitedError(DanganError):
    """Too many requests; `retry_after` is how many seconds to wait."""

    retry_after: int = 1


class IntegrityFailure(DanganError):
    """Stored content, a signature or the ledger does not match what was recorded."""

    server_side = True


class ConfigurationError(DanganError):
    """Settings or keys are missing or invalid; the operator must act."""

    server_side = True


class UpstreamError(DanganError):
    """A service Dangan depends on (an identity provider, say) failed or cannot be reached."""

    server_side = True


class InternalError(DanganError):
    """Something failed on Dangan's side that is not one of the kinds above (a bug); the
    details are in the log, never in the message."""

    server_side = True

    @classmethod
    def logged(cls) -> InternalError:
        return cls(
            code="internal_error",
            zh="服务器内部错误，已记录",
            en="internal server error; it was logged",
        )


class UnrecordedEffectError(RuntimeError):
    """Not one of the family: a programming error, never shown to a user — a use case
    changed the database without recording its ledger event (see `dangan.usecase.uow`)."""


def error_as_record(exc: BaseException) -> dict[str, object]:
    """An error as stored data (e.g. the answer to replay for an idempotency key); anything
    that is not a DanganError is stored as an InternalError."""
    err = exc if isinstance(exc, DanganError) else InternalError.logged()
    return {"kind": type(err).__name__, **err.as_dict()}


def error_from_record(data: dict[str, object]) -> DanganError:
    """The error `error_as_record` stored."""
    kinds = {k.__name__: k for k in _KINDS}
    kind = kinds.get(str(data.get("kind")), InternalError)
    raw = data.get("problems")
    problems = [
        Problem(str(p["field"]), str(p["code"]), str(p["zh"]), str(p["en"]))
        for p in (raw if isinstance(raw, list) else [])
        if isinstance(p, dict)
    ]
    return kind(
        code=str(data.get("code")),
        zh=str(data.get("zh")),
        en=str(data.get("en")),
        problems=problems,
    )


def invalid(field_name: str, code: str, zh: str, en: str) -> InvalidInputError:
    """An InvalidInputError with one problem: the common case of a single bad field."""
    return InvalidInputError.of([Problem(field_name, code, zh, en)])


_KINDS: tuple[type[DanganError], ...] = (
    InvalidInputError,
    MalformedInputError,
    TooLargeError,
    UnsupportedFormatError,
    NotFoundError,
    ConflictError,
    UnauthenticatedError,
    PermissionDeniedError,
    RateLimitedError,
    IntegrityFailure,
    ConfigurationError,
    UpstreamError,
    InternalError,
)
