"""`GET /api/v1/search`: full-text search, filtered inside the query by who asks.

People (session) see what the policy lets them read; a business system with a
`read_catalogue` token sees only the records it submitted itself. Either way `total` counts
only hits the caller may see, and the query is recorded in the ledger (`search.query`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from dangan.records import reading
from dangan.records.reading import SystemActing
from dangan.search.services import MAX_QUERY
from dangan.search.sqlite_fts import MAX_LIMIT
from dangan.systems.domain import PREFIX as SYSTEM_TOKEN_PREFIX
from dangan.systems.domain import SCOPE_READ_CATALOGUE
from dangan.systems.services import authenticate
from dangan.web.deps import RuntimeDep
from dangan.web.identity import Person, current_person
from dangan.web.records import refused_as_403

router = APIRouter(prefix="/api/v1", tags=["search"])


def search_caller(request: Request, rt: RuntimeDep) -> Person | SystemActing:
    """A system token (`dgn_…`) with read_catalogue, else a signed-in person."""
    auth = request.headers.get("authorization", "")
    secret = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not secret.startswith(f"{SYSTEM_TOKEN_PREFIX}_"):
        return current_person(request, rt)
    token = authenticate(rt.container, secret, SCOPE_READ_CATALOGUE)
    rt.limiter.check(token.id, token.rate_limit_per_minute)
    return SystemActing(
        system=token.system,
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:200],
    )


SearchCaller = Annotated[Person | SystemActing, Depends(search_caller)]


@router.get(
    "/search",
    summary="全文检索 / full-text search",
    responses={403: {"description": "refused (三员, or a token without read_catalogue)"}},
)
def search(
    rt: RuntimeDep,
    caller: SearchCaller,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    c = rt.container
    if isinstance(caller, SystemActing):
        return reading.search_as_system(c, caller, q, limit, offset)
    return refused_as_403(lambda: reading.search(c, caller, q, limit, offset))
