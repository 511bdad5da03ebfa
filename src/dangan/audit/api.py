"""`/api/v1/ledger/…`: what an auditor, another system or anyone holding a receipt needs to
check the log over time — read only, no record content.

- `GET /api/v1/ledger/checkpoint` — the latest checkpoint as a C2SP signed note (text/plain),
  with the witnesses' cosignatures;
- `GET /api/v1/ledger/consistency?old=N&new=M` — an RFC 9162 consistency proof (base64 hashes)
  that the tree of size M extends the one of size N, with both checkpoints when signed.

Callers: an auditor's session, or a system token with the `read_ledger` scope.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from dangan.access.identity import LedgerReader
from dangan.adapters.http import deps_for, problem_docs
from dangan.audit import services
from dangan.audit.ports import AuditDeps

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger 审计账本"])
Deps = Annotated[AuditDeps, Depends(deps_for(AuditDeps))]
_REFUSED = problem_docs(
    s401="未登录或令牌无效 / not signed in, or a bad token",
    s403="非审计员，或令牌无 read_ledger / not an auditor, or no read_ledger scope",
)


@router.get(
    "/checkpoint",
    summary="最新检查点（C2SP 签名注记）/ the latest checkpoint, a C2SP signed note",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **_REFUSED},
)
def latest_checkpoint(deps: Deps, reader: LedgerReader) -> PlainTextResponse:
    cp = services.latest_checkpoint(deps, reader)
    return PlainTextResponse(cp.note, headers={"Cache-Control": "no-store"})


@router.get(
    "/consistency",
    summary="一致性证明 / consistency proof between two tree sizes (RFC 9162)",
    responses={**_REFUSED, **problem_docs(s422="大小超出范围 / sizes out of range")},
)
def consistency(
    deps: Deps,
    reader: LedgerReader,
    old: Annotated[int, Query(ge=0, le=2**62)],
    new: Annotated[int, Query(ge=0, le=2**62)],
) -> dict[str, Any]:
    return services.consistency(deps, reader, old, new)
