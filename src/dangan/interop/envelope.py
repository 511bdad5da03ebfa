"""The submission envelope read by `dangan ingest`: metadata plus the files it describes.

    {"source_system": "oa", "source_id": "OA-2024-001",
     "metadata": {"title": "…", "author": "…", …},
     "files": [{"name": "正文.pdf", "role": "main", "sm3": "…", "sha256": "…"}]}

A plain metadata object (no "metadata" key) is accepted too. File names resolve against the
envelope's folder and must stay inside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dangan.core.errors import InvalidInputError, MalformedInputError, invalid
from dangan.core.json_depth import json_too_deep, nests_too_deep
from dangan.records.domain import ROLE_MAIN, IncomingFile, Submission


def read_envelope(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if nests_too_deep(raw):
        raise json_too_deep("metadata")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(
            "metadata",
            "invalid_utf8",
            f"{path.name} 不是有效的 UTF-8（第 {exc.start} 字节）",
            f"{path.name} is not valid UTF-8 (byte {exc.start})",
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid(
            "metadata",
            "invalid_json",
            f"{path.name} 不是有效的 JSON：第 {exc.lineno} 行 {exc.msg}",
            f"{path.name} is not valid JSON: line {exc.lineno}: {exc.msg}",
        ) from exc
    if not isinstance(data, dict):
        raise invalid(
            "metadata", "not_an_object", "元数据须为 JSON 对象", "metadata must be a JSON object"
        )
    return data


def submission_from(
    envelope: dict[str, Any],
    base: Path,
    default_system: str,
    default_id: str,
    files: list[Path] | None = None,
) -> Submission:
    meta = envelope.get("metadata", envelope if "files" not in envelope else {})
    if not isinstance(meta, dict):
        raise invalid(
            "metadata", "not_an_object", "metadata 须为对象", "metadata must be an object"
        )
    meta = {k: v for k, v in meta.items() if k not in {"source_system", "source_id", "files"}}
    incoming: list[IncomingFile] = []
    if files:
        incoming = [IncomingFile(p, p.name) for p in files]
    for i, entry in enumerate(envelope.get("files") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise invalid(
                f"files[{i}]", "bad_file_entry", "文件条目须含 name", "each file entry needs a name"
            )
        name = entry["name"]
        incoming.append(
            IncomingFile(
                path=base / name,
                name=name,
                role=str(entry.get("role") or ROLE_MAIN),
                declared_sm3=entry.get("sm3"),
                declared_sha256=entry.get("sha256"),
            )
        )
    return Submission(
        source_system=str(envelope.get("source_system") or default_system),
        source_id=str(envelope.get("source_id") or default_id),
        metadata=meta,
        files=incoming,
        fonds=envelope.get("fonds"),
        category=str(envelope.get("category") or "WS"),
    )


def folder_submissions(
    folder: Path, default_system: str
) -> list[tuple[Path, Submission | InvalidInputError | MalformedInputError]]:
    """One submission per *.json envelope; without a files list, same-stem files are used."""
    out: list[tuple[Path, Submission | InvalidInputError | MalformedInputError]] = []
    for env_path in sorted(folder.glob("*.json")):
        try:
            env = read_envelope(env_path)
            siblings = None
            if not env.get("files"):
                siblings = sorted(
                    p
                    for p in folder.iterdir()
                    if p.stem == env_path.stem and p.suffix != ".json" and p.is_file()
                )
            out.append(
                (env_path, submission_from(env, folder, default_system, env_path.stem, siblings))
            )
        except (InvalidInputError, MalformedInputError) as exc:
            out.append((env_path, exc))
    return out
