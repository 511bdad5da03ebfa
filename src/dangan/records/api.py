"""`/api/v1/records` (browse, describe, download, correct, history, proofs, verify) and
`/api/v1/search`: HTTP shells over the archive's use cases, which decide with the policy and
write the ledger.

A record the caller may not see answers exactly as one that does not exist (404
`record_not_found`); a refused action on a visible record answers 403 with the policy's
reason code. `ref` is the record id or its 档号 (URL-encode `·` as `%C2%B7`).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from dangan.access.identity import CurrentPerson, SearchCaller
from dangan.adapters.http import deps_for
from dangan.records import services
from dangan.records.browsing import MAX_PAGE_SIZE, BrowseFilters
from dangan.records.ports import RecordsDeps
from dangan.search.query import MAX_QUERY
from dangan.search.sqlite_fts import MAX_LIMIT

router = APIRouter(prefix="/api/v1")
Deps = Annotated[RecordsDeps, Depends(deps_for(RecordsDeps))]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "不存在或无权查看 / no such record, or not visible to you"}
}
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "策略拒绝 / refused by the access policy"}
}
_ONE = {**_NOT_FOUND, **_FORBIDDEN}
HIT_FIELDS = ("record_id", "archival_code", "title", "date", "date_precision", "snippet")


class EditRequest(BaseModel):
    changes: dict[str, Any] = Field(description="要更正的著录项 / the elements to correct")
    reason: str = Field(description="更正理由 / why", max_length=500)


@router.get(
    "/records",
    tags=["records"],
    summary="浏览档案目录 / browse the catalogue",
    responses=_FORBIDDEN,
)
def browse_records(  # noqa: PLR0917 - the query string's filters
    deps: Deps,
    person: CurrentPerson,
    fonds: Annotated[str | None, Query(max_length=8)] = None,
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
    retention: Annotated[str | None, Query(max_length=8)] = None,
    org: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> dict[str, Any]:
    filters = BrowseFilters(fonds, year, retention, org, status)
    return services.browse(deps, person, filters, page=page, size=size)


@router.get(
    "/records/{ref}",
    tags=["records"],
    summary="档案著录信息 / a record's description",
    responses=_ONE,
)
def get_record(deps: Deps, person: CurrentPerson, ref: str) -> dict[str, Any]:
    return services.get_metadata(deps, person, ref)


@router.patch(
    "/records/{ref}",
    tags=["records"],
    summary="更正著录信息（生成新版本）/ correct the description (new version)",
    responses={**_ONE, 422: {"description": "invalid changes"}},
)
def edit_record(
    deps: Deps, person: CurrentPerson, ref: str, body: Annotated[EditRequest, Body()]
) -> dict[str, Any]:
    return services.edit_record(deps, person, ref, body.changes, body.reason)


@router.get(
    "/records/{ref}/history",
    tags=["records"],
    summary="版本与审计事件 / versions and audit events",
    responses=_ONE,
)
def record_history(deps: Deps, person: CurrentPerson, ref: str) -> dict[str, Any]:
    return services.history(deps, person, ref)


@router.get(
    "/records/{ref}/events/{seq}/proof",
    tags=["records"],
    summary="审计事件的存在性证明 / inclusion proof of one of the record's events",
    responses=_ONE,
)
def event_proof(
    deps: Deps, person: CurrentPerson, ref: str, seq: Annotated[int, Path(ge=0)]
) -> dict[str, Any]:
    return services.proof(deps, person, ref, seq)


@router.get(
    "/records/{ref}/verification",
    tags=["records"],
    summary="校验档案：各副本摘要、签名与账本事件 / verify a record: replicas, signatures, "
    "its ledger events",
    responses=_ONE,
)
def verify_record(deps: Deps, person: CurrentPerson, ref: str) -> dict[str, Any]:
    """What `dangan verify` prints: `ok` is false when any check failed, and each ledger
    finding names its position."""
    return services.verify_record(deps, person, ref).as_dict()


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    base = name.rsplit("/", 1)[-1]
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in base)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


@router.get(
    "/records/{ref}/files/{name:path}",
    tags=["records"],
    summary="下载文件（校验摘要）/ download a file, digest verified",
    responses={
        **_ONE,
        200: {"content": {"application/octet-stream": {}}},
        500: {"description": "content_digest_mismatch: every replica failed its check"},
    },
    response_class=Response,
)
def download_file(deps: Deps, person: CurrentPerson, ref: str, name: str) -> Response:
    got = services.download(deps, person, ref, name)
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


@router.get(
    "/search",
    tags=["search"],
    summary="全文检索 / full-text search",
    responses={403: {"description": "refused (三员, or a token without read_catalogue)"}},
)
def search(
    deps: Deps,
    caller: SearchCaller,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """People (session) see what the policy lets them read; a business system with a
    `read_catalogue` token sees only the records it submitted itself."""
    found = services.search(deps, caller, q, limit, offset)
    found["hits"] = [{k: h[k] for k in HIT_FIELDS} for h in found["hits"]]
    return found
