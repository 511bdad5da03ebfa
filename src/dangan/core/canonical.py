"""Canonical JSON: the one byte form that is hashed and signed.

Keys sorted, no insignificant white space, UTF-8 without escaping, and no floats (values are
strings, integers, booleans, null, lists and objects) so every reader reproduces the bytes.
"""

from __future__ import annotations

import json
from typing import Any


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("canonical JSON takes no floats; encode the number as a string")
    if isinstance(value, dict):
        for v in value.values():
            _reject_floats(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _reject_floats(v)


def canonical_json(value: Any) -> bytes:
    _reject_floats(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
