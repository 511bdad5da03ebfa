"""The `dangan` root command: it composes each feature's commands and opens the instance
for them lazily; the commands themselves live with their features (`<feature>/cli.py`).

Only Typer is imported to print help; every command imports what it uses when it runs.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dangan import __version__
from dangan.access import cli as access_cli
from dangan.audit import cli as audit_cli
from dangan.instance import cli as instance_cli
from dangan.intake import cli as intake_cli
from dangan.records import cli as records_cli
from dangan.web import cli as web_cli

app = typer.Typer(
    help="Dangan 档案 — 电子档案管理系统 / electronic records archive",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _open(*, recover: bool = True) -> Any:
    from dangan.bootstrap import open_container

    return open_container(recover=recover)


def _print_version(value: bool) -> None:
    if value:
        print(f"dangan {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="版本 / show the version"
        ),
    ] = False,
) -> None:
    """Dangan 档案 — 电子档案管理系统 / electronic records archive."""
    ctx.obj = _open  # commands open the instance through `dangan.adapters.cli.instance`


for feature in (instance_cli, intake_cli, records_cli, audit_cli, web_cli):
    feature.register(app)
app.add_typer(access_cli.token_app, name="token")
app.add_typer(access_cli.account_app, name="account")

if __name__ == "__main__":
    app()
