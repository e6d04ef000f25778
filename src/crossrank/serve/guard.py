"""A plain ASGI middleware in front of every route: API key, declared body size, Server-Timing, metrics.

Plain ASGI (not Starlette's BaseHTTPMiddleware) because it runs on every request and its cost is
measurable here: the event loop's per-request work bounds what batching can gain on a small model.
"""

from __future__ import annotations

import hmac
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossrank.serve.metrics import Metrics

OPEN_PATHS = frozenset({"/health", "/docs", "/openapi.json"})


class Guard:
    """401 without the right key (compared in constant time); 413 when Content-Length is over the limit."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body_bytes: int, metrics: Metrics):
        self.app, self.api_key, self.max_body_bytes, self.metrics = app, api_key, max_body_bytes, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                timings = scope.get("state", {}).get("timings", {})
                value = f"total;dur={(time.perf_counter() - started) * 1000:.2f}" + "".join(
                    f", {name};dur={ms:.2f}" for name, ms in timings.items()
                )
                message["headers"] = [*message.get("headers", []), (b"server-timing", value.encode())]
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, timed_send)
        else:
            await self.app(scope, receive, timed_send)
        self.metrics.observe(scope["path"], status[0], time.perf_counter() - started)

    def _refusal(self, scope: Scope) -> JSONResponse | None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if self.api_key is not None and scope["path"] not in OPEN_PATHS:
            given = headers.get("authorization", "")
            token = given[7:] if given.lower().startswith("bearer ") else headers.get("x-api-key", "")
            if not hmac.compare_digest(token.encode(), self.api_key.encode()):
                return JSONResponse({"message": "missing or wrong API key (Authorization: Bearer <key>)"}, 401)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return JSONResponse(
                {"message": f"request body is {int(length)} bytes; the limit is {self.max_body_bytes}"}, 413
            )
        return None
