"""`dangan init`, `dangan demo`, `dangan rebuild`, `dangan recover`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dangan.adapters.cli import console, instance, operator, print_json, progress, run


def register(app: typer.Typer) -> None:
    for command in (init, demo, rebuild, recover):
        app.command()(command)


def init(
    if_needed: Annotated[bool, typer.Option("--if-needed", help="已初始化则跳过")] = False,
) -> None:
    """初始化实例：密钥、数据库、存储根 / initialise keys, database and storage roots."""
    from dangan.instance.lifecycle import initialise

    run(lambda: console.print(initialise(if_needed=if_needed)))


def demo(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(help="生成的示例文件数 / generated documents")] = 40,
    corpus: Annotated[Path | None, typer.Option(help="真实语料目录 / corpus folder")] = None,
    limit: Annotated[int | None, typer.Option(help="语料最多载入数 / corpus limit")] = None,
) -> None:
    """载入演示数据 / load demo data (own samples, or the real corpus)."""
    from dangan.instance.demo import corpus_documents, load_corpus, load_samples

    with instance(ctx) as deps, progress() as bar:
        if corpus is None:
            task = bar.add_task("示例文件 samples", total=count)
            report = load_samples(deps, count, progress=lambda n: bar.advance(task, n))
        else:
            total = sum(1 for _ in corpus_documents(corpus, limit))
            task = bar.add_task("语料 corpus", total=total)
            report = load_corpus(deps, corpus, limit, progress=lambda n: bar.advance(task, n))
    console.print(
        f"已归档 archived {report.archived}，待整理 queued {report.queued}"
        f"（无日期 undated {report.undated}），拒收 rejected {len(report.rejected)}，"
        f"未载入 not loaded {report.skipped}"
    )
    for line in report.summary():
        console.print(f"  未载入 not loaded — {line}", highlight=False, markup=False, emoji=False)
    for line in report.rejected[:10]:
        console.print(f"  拒收 rejected: {line}", highlight=False, markup=False, emoji=False)


def rebuild(
    yes: Annotated[bool, typer.Option("--yes", help="确认清空目录 / confirm")] = False,
) -> None:
    """从存储根重建目录数据库 / recreate the catalogue from the storage roots alone."""
    from dangan.instance.lifecycle import rebuild_from_storage

    if not yes:
        console.print(
            "将清空并重建目录数据库；加 --yes 确认 / this empties and rebuilds the "
            "catalogue database; pass --yes"
        )
        raise typer.Exit(2)

    def _do() -> None:
        with progress() as bar:
            task = bar.add_task("重建 rebuild", total=None)

            def tick(n: int, total: int) -> None:
                bar.update(task, completed=n, total=total)

            report = rebuild_from_storage(operator(), tick)
        console.print(f"重建 rebuilt {report.records} 件，跳过 skipped {len(report.skipped)}")
        for s in report.skipped[:10]:
            console.print(f"  {s}", highlight=False)

    run(_do)


def recover() -> None:
    """完成中断的后续工作并清理未确认的暂存内容 / finish interrupted work, drop orphans.

    Run when no ingest is in flight: staged content with no catalogue row is discarded.
    """
    from dangan.instance.lifecycle import recover_instance

    run(lambda: print_json(recover_instance()))
