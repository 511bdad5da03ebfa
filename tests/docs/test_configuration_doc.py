"""docs/configuration.md names every setting, with its environment variable and default."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from dangan.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
CONFIGURATION = DOCS / "configuration.md"
ENV_PREFIX = "DANGAN_"
NESTED = "__"


@dataclass(frozen=True)
class Field:
    path: str  # TOML key as the document writes it: "storage.roots", "fonds[].code"
    env: str | None  # None for the keys inside a list of tables
    default: Any  # PydanticUndefined when required
    section: bool = False  # a nested model: a `[section]` heading, its keys are the rows


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the settings model inside `annotation`, whether it is a list of them)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        inner, _ = _model_of(args[0])
        return inner, inner is not None
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            inner, many = _model_of(arg)
            if inner is not None:
                return inner, many
    return None, False


def settings_fields(
    model: type[BaseModel] = Settings, path: str = "", env: str | None = ENV_PREFIX
) -> Iterator[Field]:
    """Every field of `model`, recursively: nested models and lists of models included."""
    for name, info in model.model_fields.items():
        here = f"{path}{name}"
        here_env = None if env is None else f"{env}{name.upper()}"
        default = info.get_default(call_default_factory=True)
        inner, many = _model_of(info.annotation)
        yield Field(here, here_env, default, section=inner is not None and not many)
        if inner is not None:
            yield from settings_fields(
                inner, f"{here}[]." if many else f"{here}.", None if many else f"{here_env}__"
            )


def _rows(text: str) -> dict[str, str]:
    """Table rows of the document by their first cell's `key`."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m:
            rows[m.group(1)] = line
    return rows


def _toml_literal(value: Any) -> str | None:
    """How a scalar default is written in the document; None when it is not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return f'"{value}"'
    return None


def test_settings_walk_finds_nested_fields() -> None:
    paths = {f.path for f in settings_fields()}
    assert {"data_dir", "web.max_request_bytes", "fonds[].code", "oidc.scopes"} <= paths
    envs = {f.env for f in settings_fields()}
    assert "DANGAN_WEB__MAX_REQUEST_BYTES" in envs
    assert "DANGAN_SESSION__COOKIE_SECURE" in envs


def test_every_setting_is_documented_with_env_name_and_default() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    rows = _rows(text)
    missing, wrong = [], []
    for f in settings_fields():
        if f.section:
            if not re.search(rf"^### .*`\[{re.escape(f.path)}\]`", text, re.MULTILINE):
                missing.append(f"[{f.path}]")
            continue
        row = rows.get(f.path)
        if row is None:
            missing.append(f.path)
            continue
        if f.env is not None and f"`{f.env}`" not in row:
            wrong.append(f"{f.path}: the row does not name `{f.env}`")
        literal = None if f.default is PydanticUndefined else _toml_literal(f.default)
        if literal is not None and f"`{literal}`" not in row:
            wrong.append(f"{f.path}: the row does not give the default `{literal}`")
    assert not missing, f"settings missing from docs/configuration.md: {missing}"
    assert not wrong, "docs/configuration.md is out of date:\n" + "\n".join(wrong)


def test_documented_settings_exist() -> None:
    """No row for a setting that is gone (rows are the `section.key` ones and top-level keys)."""
    known = {f.path for f in settings_fields()}
    text = CONFIGURATION.read_text(encoding="utf-8")
    section = text.split("## 全部设置 / Every setting", 1)[1].split("## 其他环境变量", 1)[0]
    stale = sorted(set(_rows(section)) - known)
    assert not stale, f"docs/configuration.md documents settings that do not exist: {stale}"


def test_api_doc_uses_the_web_section_not_the_old_variables() -> None:
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    old = sorted(set(re.findall(r"DANGAN_WEB_(?!_|WORKERS\b)[A-Z_]+", api)))
    assert not old, f"docs/api.md names the replaced variables {old}; use [web] / DANGAN_WEB__…"
