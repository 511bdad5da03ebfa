"""A submission from what arrived over HTTP: a spooled multipart body (metadata JSON — an
envelope or plain metadata with `source_id` — plus files), a DA/T 48 EEP XML body, or a zipped
BagIt. Every problem of the request is reported at once; nothing is archived here."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from dangan.core.errors import InvalidInputError, Problem
from dangan.core.json_depth import json_too_deep, nests_too_deep
from dangan.intake.spool import METADATA_FIELD, Spooled
from dangan.interop.bagit_zip import read_bagit_zip
from dangan.interop.eep import read_eep
from dangan.interop.envelope import submission_from
from dangan.records.domain import ROLE_MAIN, IncomingFile, Submission

RESERVED = {"source_system", "source_id", "callback_url", "files"}


def _p(field: str, code: str, zh: str, en: str) -> Problem:
    return Problem(field, code, zh, en)


def _envelope(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise InvalidInputError.of(
            [
                _p(
                    "metadata",
                    "missing_metadata",
                    "缺少 metadata 部分",
                    "the metadata part is missing",
                )
            ]
        )
    if nests_too_deep(raw):
        raise json_too_deep(METADATA_FIELD)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError.of(
            [
                _p(
                    "metadata",
                    "invalid_json",
                    f"metadata 不是有效的 JSON：{exc}",
                    f"metadata is not valid JSON: {exc}",
                )
            ]
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInputError.of(
            [
                _p(
                    "metadata",
                    "not_an_object",
                    "metadata 须为 JSON 对象",
                    "metadata must be a JSON object",
                )
            ]
        )
    return data


def _request_problems(env: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    sid = env.get("source_id")
    if not isinstance(sid, str) or not sid.strip() or len(sid) > 200:
        problems.append(
            _p(
                "source_id",
                "source_id_required",
                "须提供 source_id（1–200 字符）",
                "source_id (1–200 characters) is required",
            )
        )
    url = env.get("callback_url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        problems.append(
            _p(
                "callback_url",
                "invalid_callback_url",
                "callback_url 须为 http(s) 地址",
                "callback_url must be an http(s) URL",
            )
        )
    return problems


def _declared_files(env: dict[str, Any], problems: list[Problem]) -> dict[str, dict[str, Any]]:
    declared: dict[str, dict[str, Any]] = {}
    entries = env.get("files") or []
    if not isinstance(entries, list):
        problems.append(_p("files", "bad_file_list", "files 须为列表", "files must be a list"))
        return declared
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(
                _p(
                    f"files[{i}]",
                    "bad_file_entry",
                    "文件条目须含 name",
                    "each file entry needs a name",
                )
            )
            continue
        declared[entry["name"]] = entry
    return declared


def multipart_submission(spool: Spooled, system: str) -> tuple[Submission, str | None]:
    """The archive's Submission from a spooled multipart body; every problem at once."""
    env = _envelope(spool.fields.get(METADATA_FIELD))
    problems = _request_problems(env)
    declared = _declared_files(env, problems)
    uploaded = {f.name for f in spool.files}
    for name in declared.keys() - uploaded:
        problems.append(
            _p(
                "files",
                "file_not_uploaded",
                f"声明的文件未上传：{name}",
                f"declared file was not uploaded: {name}",
            )
        )
    if problems:
        raise InvalidInputError.of(problems)
    source_id = str(env["source_id"])
    base = {k: v for k, v in env.items() if k not in RESERVED}
    sub = submission_from(base, spool.directory, system, source_id)
    files = []
    for f in spool.files:
        entry = declared.get(f.name, {})
        files.append(
            IncomingFile(
                path=f.path,
                name=f.name,
                role=str(entry.get("role") or ROLE_MAIN),
                declared_sm3=entry.get("sm3"),
                declared_sha256=entry.get("sha256"),
            )
        )
    sub = dataclasses.replace(sub, source_system=system, source_id=source_id, files=files)
    return sub, env.get("callback_url")


def package_submission(
    spool: Spooled, media: str, system: str, source_id: str | None
) -> tuple[Submission, str | None]:
    """EEP XML / zipped BagIt bodies, read by `dangan.interop` into a spool sub-folder."""
    reader = read_bagit_zip if media == "application/zip" else read_eep
    sub: Submission = reader(
        spool.files[0].path, spool.directory / "work", source_system=system, source_id=source_id
    )
    return dataclasses.replace(sub, source_system=system), None
