"""How metadata values show as catalogue text."""

from __future__ import annotations


def display_value(value: object) -> str | None:
    """A catalogue column's text for a metadata value; repeatable values are joined by "；"."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value) or None
    return str(value)
