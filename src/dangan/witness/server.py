"""The witness's HTTP service: `POST {prefix}/add-checkpoint` (c2sp.org/tlog-witness).

Plain text, not Dangan's problem+json API, because this is a protocol endpoint whose bodies
the spec fixes and whose clients are any tlog-witness logs, not only Dangan: the request is
the `old`/proof/checkpoint text, a 200 answers note signature lines, a 409 for a stale old
size answers `"<size>\\n"` as `text/x.tlog.size`, and the other refusals are told by their
status alone (their body is one line, the error code and English message, for an operator
reading logs). The statuses come from `dangan.adapters.problems.status_for`, the one mapping
of error kinds to HTTP, and are those the spec prescribes (400, 403, 404, 409, 422).

Keep-alive friendly: uvicorn keeps connections open between requests (idle ones for
`KEEP_ALIVE` seconds); each request is handled in a worker thread, and the state's
transaction serialises the check-and-update.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from dangan.adapters.problems import status_for
from dangan.core.errors import DanganError, TooLargeError
from dangan.witness.cosigning import Witness
from dangan.witness.domain import OldSizeMismatch

SIZE_TYPE = "text/x.tlog.size"
MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with its signatures fit many times
KEEP_ALIVE = 60


async def _body(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise TooLargeError(
                code="request_too_large",
                zh=f"请求体超过 {MAX_BODY} 字节",
                en=f"the request body exceeds {MAX_BODY} bytes",
            )
    return bytes(data)


def refusal(exc: DanganError) -> Response:
    if isinstance(exc, OldSizeMismatch):
        # exactly this type: a media_type would gain "; charset=utf-8"
        headers = {"content-type": SIZE_TYPE}
        return Response(f"{exc.latest_size}\n", status_code=409, headers=headers)
    return PlainTextResponse(f"{exc.code}: {exc.en}\n", status_code=status_for(exc))


def make_app(witness: Witness, prefix: str = "") -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        try:
            body = await _body(request)
            lines = await run_in_threadpool(witness.add_checkpoint, body)
        except DanganError as exc:
            return refusal(exc)
        return PlainTextResponse(lines)

    path = prefix.rstrip("/") + "/add-checkpoint"
    return Starlette(routes=[Route(path, add_checkpoint, methods=["POST"])])


def serve(directory: Path, host: str, port: int, prefix: str = "") -> None:
    """Run the witness in `directory` until interrupted."""
    import uvicorn

    app = make_app(Witness.open(directory), prefix)
    uvicorn.run(app, host=host, port=port, timeout_keep_alive=KEEP_ALIVE, log_level="info")
