"""`GET /api/v1/search`: full-text search, filtered inside the query by who asks.

People (session) see what the policy lets them read; a business system with a
`read_catalogue` token sees only the records it submitted itself. Either way `total` counts
only hits the caller may see, and the query is recorded in the ledger (`search.query`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dangan.access.identity import SearchCaller
from dangan.policy.domain import SYSTEM
from dangan.records import reading
from dangan.records.reading import SystemActing
from dangan.search.services import MAX_QUERY
from dangan.search.sqlite_fts import MAX_LIMIT
from dangan.web.deps import RuntimeDep
from dangan.web.identity import Person
from dangan.web.records import refused_as_403

router = APIRouter(prefix="/api/v1", tags=["search"])


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
    if caller.kind == SYSTEM:
        system = SystemActing(caller.name, caller.ip, caller.user_agent)
        return reading.search_as_system(c, system, q, limit, offset)
    person = Person.of(caller)
    return refused_as_403(lambda: reading.search(c, person, q, limit, offset))
