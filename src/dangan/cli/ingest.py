"""`dangan ingest`: a file with its metadata, or a folder of envelopes with a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.progress import Progress

from dangan.bootstrap import Container
from dangan.cli.common import console, print_error
from dangan.core.errors import DanganError, InvalidInputError, Problem
from dangan.interop.envelope import folder_submissions, read_envelope, submission_from
from dangan.records.services import archive_submission


def ingest_files(
    c: Container, paths: list[Path], metadata: Path | None, system: str, source_id: str | None
) -> dict[str, Any]:
    if metadata is None:
        raise InvalidInputError.of(
            [
                Problem(
                    "metadata",
                    "missing_metadata",
                    "须用 --metadata 提供元数据 JSON 文件",
                    "give the metadata JSON file with --metadata",
                )
            ]
        )
    envelope = read_envelope(metadata)
    default_id = source_id or (paths[0].stem if paths else metadata.stem)
    sub = submission_from(envelope, metadata.parent, system, default_id, list(paths))
    if source_id:
        sub = type(sub)(
            sub.source_system, source_id, sub.metadata, sub.files, sub.fonds, sub.category
        )
    return archive_submission(c, sub)


def ingest_folder(c: Container, folder: Path, system: str, progress: Callable[[], Progress]) -> int:
    """Archive every envelope in `folder`; report per item; exit code 1 if any failed."""
    items = folder_submissions(folder, system)
    ok = queued = failed = 0
    with progress() as bar:
        task = bar.add_task("归档 ingest", total=len(items))
        for env_path, sub in items:
            try:
                if isinstance(sub, DanganError):
                    raise sub
                receipt = archive_submission(c, sub)
                if receipt["archival_code"]:
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
    return 1 if failed else 0
