"""The shape of an audit event, built and checked in one place for every use case."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dangan.core.canonical import canonical_json
from dangan.core.clock import iso
from dangan.core.errors import InvalidInputError, Problem, invalid

REQUIRED_KEYS = ("type", "actor", "at")
OPTIONAL_KEYS = ("target", "outcome", "details")


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


def event_target(event: Mapping[str, Any]) -> str | None:
    target = event.get("target")
    return str(target)[:200] if target not in (None, "") else None


def validated(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as it will be hashed (without its seq, which the log assigns); every problem
    at once."""
    if not isinstance(event, Mapping):
        raise invalid("event", "not_an_object", "事件必须是对象", "the event must be an object")
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for key in REQUIRED_KEYS:
        if key not in event or event[key] in (None, ""):
            problems.append(Problem(key, "required", f"缺少必填项 {key}", f"{key} is required"))
    for key, raw in event.items():
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            problems.append(
                Problem(
                    str(key),
                    "unknown_field",
                    f"审计事件不接受字段 {key}（seq 由日志分配）",
                    f"audit events take no field {key} (seq is assigned by the log)",
                )
            )
            continue
        value = iso(raw) if key == "at" and isinstance(raw, datetime) else raw
        if key in REQUIRED_KEYS and value not in (None, "") and not isinstance(value, str):
            problems.append(
                Problem(key, "not_a_string", f"{key} 必须是字符串", f"{key} must be a string")
            )
        clean[key] = value
    try:
        canonical_json(clean)
    except (TypeError, ValueError) as exc:
        problems.append(Problem("details", "not_canonical", f"无法规范化为 JSON：{exc}", str(exc)))
    if problems:
        raise InvalidInputError.of(problems)
    return clean
