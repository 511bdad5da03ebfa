"""The `dangan` root command: it composes each feature's commands and opens the instance
for them lazily; the commands themselves live with their features (`<feature>/cli.py`).

Only Typer is imported to print help; every command imports what it uses when it runs.
"""

from __future__ import annotations

from typing import Any

import typer

from dangan import __version__
from dangan.access import cli as access_cli
from dangan.audit import cli as audit_cli
from dangan.instance import cli as instance_cli
from dangan.intake import cli as intake_cli
from dangan.records import cli as records_cli
from dangan.web import cli as web_cli
from dangan.witness import cli as witness_cli

app = typer.Typer(
    rich_markup_mode=None,
    help="Dangan 档案 — 电子档案管理系统 / electronic records archive",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Shell completion options would be converted on every call, and converting a value makes
    # Typer import pydantic: 150 ms before any command runs.
    add_completion=False,
)


def _open(*, recover: bool = True) -> Any:
    from dangan.bootstrap import open_container

    return open_container(recover=recover)


@app.callback(epilog=f"dangan {__version__} — `dangan --version` 显示版本 / prints the version")
def root(ctx: typer.Context) -> None:
    """Dangan 档案 — 电子档案管理系统 / electronic records archive."""
    # Commands open the instance through `dangan.adapters.cli.instance`. (`--version` is
    # answered by `dangan.cli.entry` before Typer is even imported.)
    ctx.obj = _open


for feature in (instance_cli, intake_cli, records_cli, audit_cli, web_cli, witness_cli):
    feature.register(app)
app.add_typer(access_cli.token_app, name="token")
app.add_typer(access_cli.account_app, name="account")

if __name__ == "__main__":
    app()
