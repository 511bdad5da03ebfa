"""The shape of an audit event, built in one place for every use case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dangan.core.clock import iso


def audit_event(  # noqa: PLR0917 - the event's fields, in its order
    type_: str,
    actor: str,
    at: datetime,
    outcome: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Who (`actor`) did what (`type_`) to what (`target`), when, with which `outcome`."""
    event: dict[str, Any] = {
        "type": type_,
        "actor": actor,
        "at": iso(at),
        "outcome": outcome,
        "details": details or {},
    }
    if target is not None:
        event["target"] = target
    return event
