"""What every command shares: the container, error printing, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from dangan.core.errors import DanganError

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def print_error(exc: DanganError) -> None:
    # User text is escaped: "[code]" and field names would otherwise be read as rich markup.
    err_console.print(
        f"[bold red]错误 error[/] {escape(f'[{exc.code}] {exc.zh}')}\n  {escape(exc.en)}",
        highlight=False,
    )
    for p in exc.problems:
        err_console.print(
            f"  - [yellow]{escape(p.field)}[/] {escape(f'({p.code}): {p.zh} / {p.en}')}",
            highlight=False,
        )


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn DanganError into a clear message and exit code 2; anything else is a bug."""
    try:
        yield
    except DanganError as exc:
        print_error(exc)
        raise typer.Exit(2) from exc


def run(fn: Callable[[], T]) -> T:
    with user_errors():
        return fn()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
