"""`/api/v1/records`: browse, describe, download, correct, history and proofs, for people.

Every route is a thin shell over `records.reading`, which decides with the policy and writes
the ledger. A record the caller may not see answers exactly as one that does not exist (404
`record_not_found`); a refused action on a visible record answers 403 with the policy's
reason code. `ref` is the record id or its 档号 (URL-encode `·` as `%C2%B7`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from dangan.access.services import AccessDenied
from dangan.core.errors import PermissionDeniedError
from dangan.records import reading
from dangan.web.deps import ContainerDep
from dangan.web.identity import CurrentPerson

router = APIRouter(prefix="/api/v1", tags=["records"])
T = TypeVar("T")

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "不存在或无权查看 / no such record, or not visible to you"}
}
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "策略拒绝 / refused by the access policy"}
}


def refused_as_403(call: Callable[[], T]) -> T:
    """Run a use case; a policy refusal becomes 403 (the problem keeps the policy's code)."""
    try:
        return call()
    except AccessDenied as exc:
        raise PermissionDeniedError(code=exc.code, zh=exc.zh, en=exc.en) from exc


class EditRequest(BaseModel):
    changes: dict[str, Any] = Field(description="要更正的著录项 / the elements to correct")
    reason: str = Field(description="更正理由 / why", max_length=500)


@router.get("/records", summary="浏览档案目录 / browse the catalogue", responses=_FORBIDDEN)
def browse_records(  # noqa: PLR0917 - the query string's filters
    c: ContainerDep,
    person: CurrentPerson,
    fonds: Annotated[str | None, Query(max_length=8)] = None,
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
    retention: Annotated[str | None, Query(max_length=8)] = None,
    org: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=reading.MAX_PAGE_SIZE)] = 20,
) -> dict[str, Any]:
    return refused_as_403(
        lambda: reading.browse(
            c,
            person,
            fonds=fonds,
            year=year,
            retention=retention,
            org=org,
            status=status,
            page=page,
            size=size,
        )
    )


@router.get(
    "/records/{ref}",
    summary="档案著录信息 / a record's description",
    responses={**_NOT_FOUND, **_FORBIDDEN},
)
def get_record(c: ContainerDep, person: CurrentPerson, ref: str) -> dict[str, Any]:
    return refused_as_403(lambda: reading.get_metadata(c, person, ref))


@router.patch(
    "/records/{ref}",
    summary="更正著录信息（生成新版本）/ correct the description (new version)",
    responses={**_NOT_FOUND, **_FORBIDDEN, 422: {"description": "invalid changes"}},
)
def edit_record(
    c: ContainerDep,
    person: CurrentPerson,
    ref: str,
    body: Annotated[EditRequest, Body()],
) -> dict[str, Any]:
    return refused_as_403(lambda: reading.edit(c, person, ref, body.changes, body.reason))


@router.get(
    "/records/{ref}/history",
    summary="版本与审计事件 / versions and audit events",
    responses={**_NOT_FOUND, **_FORBIDDEN},
)
def record_history(c: ContainerDep, person: CurrentPerson, ref: str) -> dict[str, Any]:
    return refused_as_403(lambda: reading.history(c, person, ref))


@router.get(
    "/records/{ref}/events/{seq}/proof",
    summary="审计事件的存在性证明 / inclusion proof of one of the record's events",
    responses={**_NOT_FOUND, **_FORBIDDEN},
)
def event_proof(
    c: ContainerDep, person: CurrentPerson, ref: str, seq: Annotated[int, Path(ge=0)]
) -> dict[str, Any]:
    return refused_as_403(lambda: reading.proof(c, person, ref, seq))


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    base = name.rsplit("/", 1)[-1]
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in base)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


@router.get(
    "/records/{ref}/files/{name:path}",
    summary="下载文件（校验摘要）/ download a file, digest verified",
    responses={
        **_NOT_FOUND,
        **_FORBIDDEN,
        200: {"content": {"application/octet-stream": {}}},
        500: {"description": "content_digest_mismatch: every replica failed its check"},
    },
    response_class=Response,
)
def download_file(c: ContainerDep, person: CurrentPerson, ref: str, name: str) -> Response:
    got = refused_as_403(lambda: reading.download(c, person, ref, name))
    headers = {
        "Content-Disposition": content_disposition(got.name),
        "X-Dangan-SM3": got.sm3,
        "Content-Length": str(got.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if got.data is not None:
        return Response(got.data, media_type=got.mime, headers=headers)
    assert got.chunks is not None
    return StreamingResponse(got.chunks, media_type=got.mime, headers=headers)
