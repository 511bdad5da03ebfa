"""What every feature's CLI commands share: consoles, error printing, JSON output, progress
bars, and the instance's dependencies, opened lazily by the root command (`dangan.cli.main`
puts an opener into the Typer context, so a feature's command never imports the composition
root and `dangan --help` imports nothing but Typer)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import typer

from dangan.core.errors import DanganError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from dangan.usecase.actor import Actor

T = TypeVar("T")


class _LazyConsole:
    """A rich Console made on first use: importing rich costs more than printing `--help`."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        # Plain attributes only; special methods (`with console:`) need `real()`.
        return getattr(self.real(), name)


_stdout = _LazyConsole()
console: Console = cast("Console", _stdout)
err_console: Console = cast("Console", _LazyConsole(stderr=True))


class Opener(Protocol):
    """Opens the instance (settings → container); `recover` first finishes interrupted
    after-commit work. The result must be closed."""

    def __call__(self, *, recover: bool = True) -> Any: ...


@contextmanager
def instance(ctx: typer.Context, *, recover: bool = True) -> Iterator[Any]:
    """The instance's dependencies (they satisfy every feature's port), closed afterwards; a
    DanganError anywhere inside is printed and exits 2 (`user_errors`)."""
    opener = ctx.find_root().obj
    if opener is None:
        raise RuntimeError("the root command did not install an opener")
    with user_errors():
        deps = cast(Opener, opener)(recover=recover)
        try:
            yield deps
        finally:
            deps.close()


def operator() -> Actor:
    """Whoever runs a command on the server acts as Dangan itself ("cli" on the ledger)."""
    from dangan.usecase.actor import Actor

    return Actor.internal("cli")


def print_error(exc: DanganError) -> None:
    from rich.markup import escape

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


def progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_stdout.real(),
    )
