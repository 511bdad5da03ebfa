"""The `dangan` command: one sub-command per user action, each calling a use case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dangan.access.cli import account_app, token_app
from dangan.cli.common import console, print_json, run
from dangan.cli.container import open_container
from dangan.cli.ledger import ledger_app
from dangan.web.cli_serve import serve

app = typer.Typer(
    help="Dangan 档案 — 电子档案管理系统 / electronic records archive",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
queue_app = typer.Typer(help="待整理队列 / review queue", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
app.add_typer(ledger_app, name="ledger")
app.add_typer(token_app, name="token")
app.add_typer(account_app, name="account")
app.command()(serve)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Dangan 档案 — 电子档案管理系统 / electronic records archive."""
    # Feature commands open the instance through `dangan.adapters.cli.open_deps`.
    ctx.obj = open_container


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def init(
    if_needed: Annotated[bool, typer.Option("--if-needed", help="已初始化则跳过")] = False,
) -> None:
    """初始化实例：密钥、数据库、存储根 / initialise keys, database and storage roots."""
    from dangan.setup import initialise

    def _do() -> None:
        done = initialise(if_needed=if_needed)
        console.print(done)

    run(_do)


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="生成的示例文件数 / generated documents")] = 40,
    corpus: Annotated[Path | None, typer.Option(help="真实语料目录 / corpus folder")] = None,
    limit: Annotated[int | None, typer.Option(help="语料最多载入数 / corpus limit")] = None,
) -> None:
    """载入演示数据 / load demo data (own samples, or the real corpus)."""
    from dangan.demo import corpus_documents, load_corpus, load_samples

    def _do() -> None:
        c = open_container()
        with _progress() as bar:
            if corpus is None:
                task = bar.add_task("示例文件 samples", total=count)
                report = load_samples(c, count, progress=lambda n: bar.advance(task, n))
            else:
                total = sum(1 for _ in corpus_documents(corpus, limit))
                task = bar.add_task("语料 corpus", total=total)
                report = load_corpus(c, corpus, limit, progress=lambda n: bar.advance(task, n))
        console.print(
            f"已归档 archived {report.archived}，待整理 queued {report.queued}，"
            f"拒收 rejected {len(report.rejected)}，跳过 skipped {report.skipped}"
        )
        for line in report.rejected[:10]:
            console.print(f"  拒收 rejected: {line}", highlight=False)

    run(_do)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="文件或文件夹 / files or one folder")],
    metadata: Annotated[Path | None, typer.Option("--metadata", "-m", help="元数据 JSON")] = None,
    source_system: Annotated[str, typer.Option(help="来源系统 / source system")] = "cli",
    source_id: Annotated[str | None, typer.Option(help="业务标识 / source id")] = None,
) -> None:
    """归档文件（文件+元数据 JSON，或文件夹）/ archive a file + metadata JSON, or a folder."""
    from dangan.cli.ingest import ingest_files, ingest_folder

    def _do() -> None:
        c = open_container()
        if len(paths) == 1 and paths[0].is_dir():
            code = ingest_folder(c, paths[0], source_system, _progress)
            raise typer.Exit(code)
        print_json(ingest_files(c, paths, metadata, source_system, source_id))

    run(_do)


@queue_app.command("list")
def queue_list(limit: int = 100) -> None:
    """列出待整理 / list the review queue."""
    from dangan.records.review import list_queue

    def _do() -> None:
        table = Table("id", "题名 title", "日期 date", "原因 reason")
        for rec in list_queue(open_container(), limit):
            reasons = json.loads(rec.classification_json).get("reasons", [])
            table.add_row(rec.id, rec.title, rec.doc_date or "", "; ".join(map(str, reasons))[:80])
        console.print(table)

    run(_do)


@queue_app.command("confirm")
def queue_confirm(
    record: str,
    retention: Annotated[str, typer.Option(help="保管期限 Y/D30/D10")],
    org: Annotated[str | None, typer.Option(help="机构（问题）代码")] = None,
    reason: Annotated[str, typer.Option(help="说明")] = "",
    actor: Annotated[str, typer.Option(help="档案员 / archivist")] = "archivist",
) -> None:
    """确认分类并编号 / confirm classification and number the record."""
    from dangan.records.review import confirm

    run(
        lambda: print_json(
            confirm(
                open_container(), record, retention=retention, org=org, actor=actor, reason=reason
            )
        )
    )


@app.command()
def search(
    query: str,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """全文检索 / full-text search: 档号, 题名, 日期."""
    from dangan.search.services import search_records

    def _do() -> None:
        page = search_records(open_container(), query, limit=limit)
        if as_json:
            print_json(page)
            return
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

    run(_do)


@app.command()
def show(record: str) -> None:
    """显示档案 / show a record (by id or archival code)."""
    from dangan.records.queries import record_details

    run(lambda: print_json(record_details(open_container(), record)))


@app.command()
def verify(record: str) -> None:
    """校验档案摘要与签名 / verify a record's digests and signatures on every replica."""
    from dangan.records.verification import verify_record

    def _do() -> None:
        result = verify_record(open_container(), record)
        print_json(result.as_dict())
        if not result.ok:
            raise typer.Exit(1)

    run(_do)


@app.command()
def rebuild(
    yes: Annotated[bool, typer.Option("--yes", help="确认清空目录 / confirm")] = False,
) -> None:
    """从存储根重建目录数据库 / recreate the catalogue from the storage roots alone."""
    from dangan.setup import rebuild_from_storage

    if not yes:
        console.print(
            "将清空并重建目录数据库；加 --yes 确认 / this empties and rebuilds the "
            "catalogue database; pass --yes"
        )
        raise typer.Exit(2)

    def _do() -> None:
        with _progress() as bar:
            task = bar.add_task("重建 rebuild", total=None)

            def tick(n: int, total: int) -> None:
                bar.update(task, completed=n, total=total)

            report = rebuild_from_storage(tick)
        console.print(f"重建 rebuilt {report.records} 件，跳过 skipped {len(report.skipped)}")
        for s in report.skipped[:10]:
            console.print(f"  {s}", highlight=False)

    run(_do)


@app.command()
def recover() -> None:
    """完成中断的后续工作并清理未确认的暂存内容 / finish interrupted work, drop orphans.

    Run when no ingest is in flight: staged content with no catalogue row is discarded.
    """
    from dangan.setup import recover_instance

    run(lambda: print_json(recover_instance()))


if __name__ == "__main__":
    app()
