"""`dangan ingest`: a file with its metadata JSON, or a folder of envelopes with a progress
bar — through the same `submit` use case as the HTTP API, as the business system named by
`--source-system` (the operator submits on its behalf)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dangan.adapters.cli import console, instance, print_error, print_json, progress

if TYPE_CHECKING:
    from dangan.intake.ports import IntakeDeps
    from dangan.usecase import Actor


def register(app: typer.Typer) -> None:
    app.command()(ingest)


def ingest(  # noqa: PLR0917 - the command's options
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="文件或文件夹 / files or one folder")],
    metadata: Annotated[Path | None, typer.Option("--metadata", "-m", help="元数据 JSON")] = None,
    source_system: Annotated[str, typer.Option(help="来源系统 / source system")] = "cli",
    source_id: Annotated[str | None, typer.Option(help="业务标识 / source id")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="幂等键 / idempotency key (one file only)")
    ] = None,
) -> None:
    """归档文件（文件+元数据 JSON，或文件夹）/ archive a file + metadata JSON, or a folder."""
    from dangan.usecase import Actor

    with instance(ctx) as deps:
        actor = Actor.system(source_system, {"submit"})
        if len(paths) == 1 and paths[0].is_dir():
            failed = _ingest_folder(deps, actor, paths[0])
        else:
            failed = False
            print_json(_ingest_files(deps, actor, paths, metadata, source_id, idempotency_key))
    if failed:
        raise typer.Exit(1)


def _ingest_files(  # noqa: PLR0917 - the command's inputs
    deps: IntakeDeps,
    actor: Actor,
    paths: list[Path],
    metadata: Path | None,
    source_id: str | None,
    key: str | None,
) -> dict[str, Any]:
    import dataclasses

    from dangan.core.errors import invalid
    from dangan.intake.services import submit
    from dangan.intake.submitting import Delivery
    from dangan.interop.envelope import read_envelope, submission_from

    if metadata is None:
        raise invalid(
            "metadata",
            "missing_metadata",
            "须用 --metadata 提供元数据 JSON 文件",
            "give the metadata JSON file with --metadata",
        )
    envelope = read_envelope(metadata)
    default_id = source_id or (paths[0].stem if paths else metadata.stem)
    sub = submission_from(envelope, metadata.parent, actor.name, default_id, list(paths))
    if source_id:
        sub = dataclasses.replace(sub, source_id=source_id)
    how = Delivery(idempotency_key=key, request_digest=_digest(envelope, sub)) if key else None
    got = submit(deps, actor, sub, how)
    if got.receipt is not None:
        return got.receipt
    replayed = got.replay.response if got.replay is not None else None
    return {"record_id": got.record_id, "replayed": True, **(replayed or {})}


def _digest(envelope: dict[str, Any], sub: Any) -> str:
    """Identity of what was asked, compared when an idempotency key is used again."""
    import hashlib

    from dangan.core.canonical import canonical_json

    h = hashlib.sha256(canonical_json(envelope))
    for f in sub.files:
        h.update(hashlib.sha256(f.path.read_bytes()).digest())
    return h.hexdigest()


def _ingest_folder(deps: IntakeDeps, actor: Actor, folder: Path) -> bool:
    """Archive every envelope in `folder`, reporting each; True if any failed."""
    from dangan.core.errors import DanganError
    from dangan.intake.services import submit
    from dangan.interop.envelope import folder_submissions

    items = folder_submissions(folder, actor.name)
    ok = queued = failed = 0
    with progress() as bar:
        task = bar.add_task("归档 ingest", total=len(items))
        for env_path, sub in items:
            try:
                if isinstance(sub, DanganError):
                    raise sub
                receipt = submit(deps, actor, sub).receipt or {}
                if receipt.get("archival_code"):
                    ok += 1
                    bar.console.print(f"✔ {env_path.name} → {receipt['archival_code']}")
                else:
                    queued += 1
                    bar.console.print(f"… {env_path.name} → 待整理 review queue")
            except DanganError as exc:
                failed += 1
                bar.console.print(f"✘ {env_path.name}")
                print_error(exc)
            bar.advance(task)
    console.print(f"归档 archived {ok}，待整理 queued {queued}，失败 failed {failed}")
    return failed > 0
