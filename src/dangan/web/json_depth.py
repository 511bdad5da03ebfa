"""Every JSON request body is scanned for nesting depth as it arrives, before a route parses it.

FastAPI parses a JSON body with `json.loads`, which recurses once per level; past Python's
recursion limit that is an unhelpful 400, and a few hundred levels parse fine and break the
code that walks the result (a 500). This ASGI middleware wraps `receive`: each chunk goes
through `DepthScanner` on its way to the route, so nothing is held back. When the body nests
deeper than MAX_JSON_DEPTH, the rest of it is read and dropped (a client still sending would
otherwise see the connection reset instead of the answer), the route's read fails, and
whatever the route would answer is replaced by the 400 problem `json_too_deep`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dangan.adapters.problems import error_body, problem_response
from dangan.core.json_depth import MAX_JSON_DEPTH, DepthScanner, json_too_deep


def is_json(scope: Scope) -> bool:
    """Whether the request says its body is JSON, as FastAPI decides whether to parse it."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media: bytes = value.split(b";")[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


class JsonDepthLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_json(scope):
            await self.app(scope, receive, send)
            return
        guard = _Guard(scope, receive, send, self.limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.refused:
                raise
        if guard.refused:
            await guard.answer()


class _Guard:
    """One request's `receive` and `send`, and whether its body was refused."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.scanner = DepthScanner(limit)
        self.refused = False
        self.started = False  # the route's answer has begun: too late to replace it
        self.answered = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or self.refused:
            return message
        more = message.get("more_body", False)
        if self.scanner.feed(message.get("body", b""), final=not more):
            self.refused = True
            while more:
                rest = await self._receive()
                more = rest["type"] == "http.request" and rest.get("more_body", False)
            raise json_too_deep("body", self.limit)
        return message

    async def send(self, message: Message) -> None:
        if not self.refused or self.started:
            self.started = self.started or message["type"] == "http.response.start"
            await self._send(message)
        # Refused: the route's own answer to the failed read is dropped; `answer` sends ours.

    async def answer(self) -> None:
        if self.answered or self.started:
            return
        self.answered = True
        status, body = error_body(json_too_deep("body", self.limit), self.scope.get("path"))
        await problem_response(status, body)(self.scope, self._receive, self._send)
