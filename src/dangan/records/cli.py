"""`dangan queue list|confirm`, `dangan search`, `dangan show`, `dangan verify`.

Run on the server by the operator: reading is done as Dangan itself (`cli` on the ledger);
confirming a queued record names the archivist's account (`--actor`), whose role the policy
checks exactly as over HTTP. Heavy imports wait inside the commands, so `dangan --help`
stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dangan.adapters.cli import console, instance, operator, print_json

queue_app = typer.Typer(
    rich_markup_mode=None, help="待整理队列 / review queue", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
    app.command()(search)
    app.command()(show)
    app.command()(verify)


@queue_app.command("list")
def queue_list(ctx: typer.Context, limit: int = 100) -> None:
    """列出待整理 / list the review queue."""
    from rich.table import Table

    from dangan.records.services import list_queue

    with instance(ctx) as deps:
        queue = list_queue(deps, operator(), limit)
    table = Table("id", "题名 title", "日期 date", "原因 reason")
    for item in queue:
        reasons = "; ".join(r.get("zh", str(r)) for r in item["reasons"])[:80]
        table.add_row(item["record_id"], item["title"], item["date"] or "", reasons)
    console.print(table)


@queue_app.command("confirm")
def queue_confirm(  # noqa: PLR0917 - the command's options
    ctx: typer.Context,
    record: str,
    retention: Annotated[str, typer.Option(help="保管期限 Y/D30/D10")],
    actor: Annotated[str, typer.Option(help="档案员账户 / the archivist's user name")],
    org: Annotated[str | None, typer.Option(help="机构（问题）代码")] = None,
    reason: Annotated[str, typer.Option(help="说明")] = "",
    year: Annotated[
        int | None, typer.Option(help="年度：无日期文件须核定 / year, for an undated record")
    ] = None,
) -> None:
    """确认分类并编号（档案员）/ confirm classification and number the record (archivist)."""
    from dangan.access.subjects import actor_for_username
    from dangan.records.services import confirm

    with instance(ctx) as deps:
        who = actor_for_username(deps, actor)
        print_json(
            confirm(deps, who, record, retention=retention, org=org, reason=reason, year=year)
        )


def search(
    ctx: typer.Context,
    query: str,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """全文检索 / full-text search: 档号, 题名, 日期."""
    from dangan.records.services import search as search_records

    with instance(ctx) as deps:
        page = search_records(deps, operator(), query, limit=limit)
    if as_json:
        print_json(page)
    else:
        _print_hits(page)


def _print_hits(page: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(f"共 {page['total']} 条 / {page['total']} results")
    table = Table()
    table.add_column("档号 code", no_wrap=True)
    table.add_column("题名 title", overflow="fold")
    table.add_column("日期 date", no_wrap=True)
    wide = console.width >= 120  # the snippet only when there is room for the title too
    if wide:
        table.add_column("摘要 snippet", no_wrap=True, overflow="ellipsis", max_width=40)
    for hit in page["hits"]:
        row = [hit["archival_code"] or "（待整理）", hit["title"], hit["date"] or ""]
        if wide:
            row.append(hit["snippet"].replace("\n", " ")[:60])
        table.add_row(*row)
    console.print(table)


def show(ctx: typer.Context, record: str) -> None:
    """显示档案 / show a record (by id or archival code)."""
    from dangan.records.services import get_metadata

    with instance(ctx) as deps:
        print_json(get_metadata(deps, operator(), record))


def verify(ctx: typer.Context, record: str) -> None:
    """校验档案摘要、签名与账本事件 / verify a record: digests on every replica, signatures,
    and its ledger events (exit 1 when any check fails)."""
    from dangan.records.services import verify_record

    with instance(ctx) as deps:
        result = verify_record(deps, operator(), record)
    print_json(result.as_dict())
    if not result.ok:
        raise typer.Exit(1)
