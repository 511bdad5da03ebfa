"""`POST /api/v1/submissions` and `GET /api/v1/submissions/{record_id}`.

Order of a POST: token and scope (before a byte of the body is read) → content type → stream
the body to the spool with limits → parse metadata and match files → claim the
Idempotency-Key → archive (here, or in a background thread above the size threshold) →
answer → callback. The spool is deleted whatever happens. The source system is always the
token's system: a client cannot write into another system's numbering of source ids.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from dangan.access.identity import ReadCaller, SubmitCaller
from dangan.access.identity import SystemCaller as Caller
from dangan.core.clock import iso, utcnow
from dangan.core.errors import (
    DanganError,
    InvalidInputError,
    Problem,
    TooLargeError,
    UnsupportedFormatError,
)
from dangan.interop.envelope import submission_from
from dangan.records.domain import ROLE_MAIN, IncomingFile, Submission, record_id_for
from dangan.records.services import Receipt, archive_submission
from dangan.systems.services import (
    STATUS_PROCESSING,
    STATUS_REJECTED,
    Tracked,
    begin_tracking,
    deliver_notice,
    finish_tracking,
    forget_tracking,
    submission_status,
)
from dangan.web.deps import ApiRuntime, RuntimeDep
from dangan.web.errors import error_body, problem_body, problem_response
from dangan.web.spool import METADATA_FIELD, Spooled, malformed, spool_body, spool_multipart

log = logging.getLogger("dangan.web")
router = APIRouter(prefix="/api/v1", tags=["submissions"])

MULTIPART = "multipart/form-data"
INTEROP_TYPES = {"application/xml": "eep.xml", "text/xml": "eep.xml", "application/zip": "bag.zip"}
INTERNAL = ("归档失败，已记录；请重试", "archiving failed and was logged; retry")
STATUS_FAILED = "failed"
RESERVED = {"source_system", "source_id", "callback_url", "files"}

_MULTIPART_SCHEMA = {
    "required": True,
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "required": ["metadata", "files"],
                "properties": {
                    "metadata": {
                        "type": "string",
                        "description": "JSON: envelope or plain metadata, with source_id",
                    },
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
}


def _p(field: str, code: str, zh: str, en: str) -> Problem:
    return Problem(field, code, zh, en)


def status_url(record_id: str) -> str:
    return f"/api/v1/submissions/{record_id}"


# --- reading the request ---------------------------------------------------------------------


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


def build_submission(spool: Spooled, system: str) -> tuple[Submission, str | None]:
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


def _interop_readers() -> tuple[Any, Any] | None:
    try:
        from dangan.interop.bagit_zip import read_bagit_zip
        from dangan.interop.eep import read_eep
    except ImportError:  # the interop package is optional at this layer
        return None
    return read_eep, read_bagit_zip


def _interop_submission(
    spool: Spooled, media: str, system: str, source_id: str | None
) -> tuple[Submission, str | None]:
    """EEP XML / zipped BagIt bodies, read by `dangan.interop` into a spool sub-folder."""
    readers = _interop_readers()
    if readers is None:
        raise _unsupported(media)
    read_eep, read_bagit_zip = readers
    reader = read_bagit_zip if media == "application/zip" else read_eep
    sub: Submission = reader(
        spool.files[0].path, spool.directory / "work", source_system=system, source_id=source_id
    )
    return dataclasses.replace(sub, source_system=system), None


def _unsupported(media: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        code="unsupported_media_type",
        zh=f"不支持的内容类型 {media or '（无）'}；请用 multipart/form-data",
        en=f"unsupported content type {media or '(none)'}; use multipart/form-data",
    )


async def _spool_request(request: Request, rt: ApiRuntime) -> tuple[Spooled, str]:
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";")[0].strip().lower()
    if media != MULTIPART and media not in INTEROP_TYPES:
        raise _unsupported(media)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > rt.options.max_request_bytes:
        raise TooLargeError(
            code="payload_too_large",
            zh=f"请求体超过上限 {rt.options.max_request_bytes} 字节",
            en=f"the request body exceeds the limit of {rt.options.max_request_bytes} bytes",
        )
    try:
        if media == MULTIPART:
            return await spool_multipart(request.stream(), ctype, rt.spool_root, rt.limits), media
        return await spool_body(
            request.stream(), rt.spool_root, rt.limits, INTEROP_TYPES[media]
        ), media
    except ClientDisconnect as exc:
        raise malformed("client_disconnected", "客户端中途断开", "the client disconnected") from exc


# --- answering -------------------------------------------------------------------------------


def _event_of(status: str) -> str:
    return {"archived": "archived", "pending_review": "queued"}.get(status, "rejected")


@dataclass(frozen=True)
class Job:
    """One submission on its way into the archive, with whom to tell and where to record."""

    rt: ApiRuntime
    caller: Caller
    sub: Submission
    callback_url: str | None
    tracking: str | None
    background: bool = False

    @property
    def record_id(self) -> str:
        return record_id_for(self.caller.system, self.sub.source_id)


def _notify(job: Job, status: str, body: dict[str, Any]) -> None:
    if not job.callback_url:
        return
    notice = {
        "event": _event_of(status),
        "system": job.caller.system,
        "source_id": job.sub.source_id,
        "record_id": job.record_id,
        "at": iso(utcnow()),
        ("receipt" if _event_of(status) != "rejected" else "problem"): body,
    }
    job.rt.notify(
        deliver_notice,
        job.callback_url,
        notice,
        job.caller.secret,
        attempts=job.rt.options.callback_attempts,
        backoff=job.rt.options.callback_backoff_seconds,
    )


def _accepted(record_id: str) -> JSONResponse:
    url = status_url(record_id)
    body = {"record_id": record_id, "status": STATUS_PROCESSING, "status_url": url}
    return JSONResponse(body, status_code=202, headers={"Location": url})


def _created(receipt: Receipt) -> JSONResponse:
    headers = {"Location": status_url(receipt["record_id"])}
    return JSONResponse(receipt, status_code=201, headers=headers)


def _replay(tracked: Tracked) -> JSONResponse:
    if tracked.status == STATUS_PROCESSING or tracked.response is None:
        return _accepted(tracked.record_id)
    status = tracked.http_status or 200
    if status >= 400:
        return problem_response(status, tracked.response)
    headers = {"Location": status_url(tracked.record_id)}
    return JSONResponse(tracked.response, status_code=status, headers=headers)


def _archive(job: Job) -> Receipt:
    """Archive; record and announce the outcome, then return the receipt or re-raise.

    A server-side failure (5xx) of a request someone waits on releases its Idempotency-Key so
    a retry runs again; in the background it is recorded as `failed` for the status URL.
    """
    c = job.rt.container
    try:
        receipt = archive_submission(c, job.sub)
    except Exception as exc:
        if isinstance(exc, DanganError):
            status, body = error_body(exc, status_url(job.record_id))
        else:
            log.exception("archiving %s failed", job.record_id)
            status, body = 500, problem_body(500, "internal_error", *INTERNAL)
        if status >= 500 and not job.background:
            if job.tracking:
                forget_tracking(c, job.tracking)
            raise
        if job.tracking:
            outcome = STATUS_REJECTED if status < 500 else STATUS_FAILED
            finish_tracking(c, job.tracking, outcome, status, body)
        _notify(job, STATUS_REJECTED, body)
        raise
    if job.tracking:
        finish_tracking(c, job.tracking, str(receipt["status"]), 201, receipt)
    _notify(job, str(receipt["status"]), receipt)
    return receipt


def _archive_in_background(job: Job, spool: Spooled) -> None:
    try:
        _archive(job)
    except Exception:  # already recorded for the status URL and the callback
        log.info("background submission %s did not archive", job.record_id)
    finally:
        spool.cleanup()


# --- routes ----------------------------------------------------------------------------------


@router.post(
    "/submissions",
    status_code=201,
    summary="提交归档 / submit a record for archiving",
    openapi_extra={"requestBody": _MULTIPART_SCHEMA},
    responses={
        201: {"description": "archived or queued for review: the receipt"},
        202: {"description": "large upload accepted; poll the status URL"},
        400: {"description": "malformed or truncated body"},
        401: {"description": "missing, invalid or revoked token"},
        403: {"description": "the token lacks scope `submit`"},
        409: {"description": "source_id or Idempotency-Key reused with a different body"},
        413: {"description": "a file or the body is too large"},
        415: {"description": "unsupported content type"},
        422: {"description": "invalid metadata or files; every problem listed"},
        429: {"description": "rate limit; see Retry-After"},
    },
)
async def post_submission(
    request: Request,
    rt: RuntimeDep,
    caller: SubmitCaller,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    source_id: Annotated[
        str | None, Query(max_length=200, description="EEP/BagIt bodies only")
    ] = None,
) -> JSONResponse:
    spool, media = await _spool_request(request, rt)
    background = False
    try:
        if media == MULTIPART:
            sub, url = build_submission(spool, caller.system)
        else:
            sub, url = _interop_submission(spool, media, caller.system, source_id)
        record_id = record_id_for(caller.system, sub.source_id)
        background = spool.total > rt.options.async_threshold_bytes
        tracking: str | None = None
        if idempotency_key is not None or background:
            tracked, created = await run_in_threadpool(
                lambda: begin_tracking(
                    rt.container,
                    system=caller.system,
                    source_id=sub.source_id,
                    record_id=record_id,
                    idempotency_key=idempotency_key,
                    request_digest=spool.digest(),
                )
            )
            if not created:
                background = False
                return _replay(tracked)
            tracking = tracked.id
        job = Job(rt, caller, sub, url, tracking, background)
        if background:
            rt.in_background(_archive_in_background, job, spool)
            return _accepted(record_id)
        return _created(await run_in_threadpool(_archive, job))
    finally:
        if not background:
            spool.cleanup()


@router.get(
    "/submissions/{record_id}",
    summary="提交状态与回执 / submission status and receipt",
    responses={404: {"description": "unknown, or another system's"}},
)
def get_submission(record_id: str, rt: RuntimeDep, caller: ReadCaller) -> dict[str, Any]:
    return submission_status(rt.container, caller.system, record_id)
