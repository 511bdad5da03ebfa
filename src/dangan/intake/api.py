"""`POST /api/v1/submissions` and `GET /api/v1/submissions/{record_id}`.

Order of a POST: token and scope (before a byte of the body is read) → content type → stream
the body to the spool with limits → parse metadata and match files → `submit` (idempotency,
archiving now or in the background above the size threshold, callback) → answer. The spool
is deleted once archiving has ended, whatever happens.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from dangan.access.identity import ReadCaller, SubmitCaller, SystemCaller
from dangan.adapters.http import WebRuntime, deps_for, runtime
from dangan.adapters.problems import error_body, problem_response
from dangan.core.errors import TooLargeError, UnsupportedFormatError, error_from_record
from dangan.intake import services
from dangan.intake.callbacks import Callback
from dangan.intake.ports import IntakeDeps
from dangan.intake.requests import multipart_submission, package_submission
from dangan.intake.spool import Spooled, SpoolLimits, malformed, spool_body, spool_multipart
from dangan.intake.submitting import Delivery, Submitted
from dangan.intake.tracking import PROCESSING, Tracked
from dangan.records.domain import record_id_for

router = APIRouter(prefix="/api/v1", tags=["submissions"])
Deps = Annotated[IntakeDeps, Depends(deps_for(IntakeDeps))]

MULTIPART = "multipart/form-data"
PACKAGE_TYPES = {"application/xml": "eep.xml", "text/xml": "eep.xml", "application/zip": "bag.zip"}
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


def status_url(record_id: str) -> str:
    return f"/api/v1/submissions/{record_id}"


def spool_root(rt: WebRuntime) -> Any:
    root = rt.settings.resolved_data_dir / "spool"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _unsupported(media: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        code="unsupported_media_type",
        zh=f"不支持的内容类型 {media or '（无）'}；请用 multipart/form-data",
        en=f"unsupported content type {media or '(none)'}; use multipart/form-data",
    )


async def _spool_request(request: Request, rt: WebRuntime) -> tuple[Spooled, str]:
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";")[0].strip().lower()
    if media != MULTIPART and media not in PACKAGE_TYPES:
        raise _unsupported(media)
    most = rt.options.max_request_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > most:
        raise TooLargeError(
            code="payload_too_large",
            zh=f"请求体超过上限 {most} 字节",
            en=f"the request body exceeds the limit of {most} bytes",
        )
    limits = SpoolLimits(max_file_bytes=rt.settings.storage.max_file_bytes, max_total_bytes=most)
    root = spool_root(rt)
    try:
        if media == MULTIPART:
            return await spool_multipart(request.stream(), ctype, root, limits), media
        return await spool_body(request.stream(), root, limits, PACKAGE_TYPES[media]), media
    except ClientDisconnect as exc:
        raise malformed("client_disconnected", "客户端中途断开", "the client disconnected") from exc


def _accepted(record_id: str) -> JSONResponse:
    url = status_url(record_id)
    body = {"record_id": record_id, "status": PROCESSING, "status_url": url}
    return JSONResponse(body, status_code=202, headers={"Location": url})


def _answer(got: Submitted) -> JSONResponse:
    if got.receipt is not None:
        headers = {"Location": status_url(got.record_id)}
        return JSONResponse(got.receipt, status_code=201, headers=headers)
    if got.replay is not None:
        return _replay(got.replay)
    return _accepted(got.record_id)


def _replay(tracked: Tracked) -> JSONResponse:
    """The first answer again, for a retry with the same Idempotency-Key and body."""
    if tracked.status == PROCESSING or tracked.response is None:
        return _accepted(tracked.record_id)
    url = status_url(tracked.record_id)
    if tracked.failed:
        status, body = error_body(error_from_record(tracked.response), url)
        return problem_response(status, body)
    return JSONResponse(tracked.response, status_code=201, headers={"Location": url})


def _callback(rt: WebRuntime, caller: SystemCaller, url: str | None, record_id: str) -> Any:
    if not url:
        return None
    return Callback(
        url=url,
        key=caller.secret,
        problem=lambda e: error_body(e, status_url(record_id))[1],
        attempts=rt.options.callback_attempts,
        backoff=rt.options.callback_backoff_seconds,
    )


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
    deps: Deps,
    caller: SubmitCaller,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    source_id: Annotated[
        str | None, Query(max_length=200, description="EEP/BagIt bodies only")
    ] = None,
) -> JSONResponse:
    rt = runtime(request)
    spool, media = await _spool_request(request, rt)
    handed_over = False  # to `submit`, which drops the spool once archiving has ended
    try:
        system = caller.actor.name
        if media == MULTIPART:
            sub, url = multipart_submission(spool, system)
        else:
            sub, url = package_submission(spool, media, system, source_id)
        how = Delivery(
            idempotency_key=idempotency_key,
            request_digest=spool.digest(),
            callback=_callback(rt, caller, url, record_id_for(system, sub.source_id)),
            background=spool.total > rt.options.async_threshold_bytes,
            done=spool.cleanup,
        )
        handed_over = True
        got = await run_in_threadpool(services.submit, deps, caller.actor, sub, how, rt)
        return _answer(got)
    finally:
        if not handed_over:
            spool.cleanup()


@router.get(
    "/submissions/{record_id}",
    summary="提交状态与回执 / submission status and receipt",
    responses={404: {"description": "unknown, or another system's"}},
)
def get_submission(record_id: str, deps: Deps, caller: ReadCaller) -> dict[str, Any]:
    found = services.submission_status(deps, caller.actor, record_id)
    problem = None
    if found.error is not None:
        problem = error_body(found.error, status_url(record_id))[1]
    return {
        "record_id": found.record_id,
        "status": found.status,
        "receipt": found.receipt,
        "problem": problem,
    }
