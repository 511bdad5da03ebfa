"""`dangan token …`: issue, list and revoke the bearer tokens of business systems."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer
from rich.table import Table

from dangan.cli.common import console, run
from dangan.cli.container import open_container

token_app = typer.Typer(help="业务系统访问令牌 / system API tokens", no_args_is_help=True)


@token_app.command("create")
def create(
    system: Annotated[str, typer.Option(help="业务系统名 / system name, e.g. oa")],
    scope: Annotated[
        list[str], typer.Option(help="submit / read_catalogue（可重复 / repeatable）")
    ],
    rate: Annotated[int, typer.Option(help="每分钟请求上限，0 不限 / requests per minute")] = 60,
) -> None:
    """签发令牌（只显示一次）/ issue a token (shown once)."""
    from dangan.systems.services import create_token

    def _do() -> None:
        with closing(open_container()) as c:
            plaintext, token = create_token(c, system, scope, rate)
        console.print(f"令牌 token id {token.id}  系统 system {token.system}  {token.scopes}")
        console.print("请妥善保存，仅显示一次 / store it now, it is shown only once:")
        print(plaintext)  # plain stdout so scripts can capture it

    run(_do)


@token_app.command("list")
def list_() -> None:
    """列出令牌 / list tokens."""
    from dangan.systems.services import list_tokens

    def _do() -> None:
        table = Table()
        table.add_column("id", no_wrap=True)
        for title in ("系统 system", "范围 scopes", "每分钟 rate", "最近使用 last used", "状态"):
            table.add_column(title)
        with closing(open_container()) as c:
            tokens = list_tokens(c)
        for t in tokens:
            table.add_row(
                t.id,
                t.system,
                " ".join(t.scopes),
                str(t.rate_limit_per_minute),
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "",
                "已吊销 revoked" if t.revoked_at else "有效 active",
            )
        console.print(table)

    run(_do)


@token_app.command("revoke")
def revoke(token_id: str) -> None:
    """吊销令牌 / revoke a token."""
    from dangan.systems.services import revoke_token

    def _do() -> None:
        with closing(open_container()) as c:
            t = revoke_token(c, token_id)
        console.print(f"已吊销 revoked {t.id} ({t.system})")

    run(_do)
