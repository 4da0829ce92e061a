"""The mock API behind a real HTTP server: an ASGI app around `MockPromptOpsAPI.handle`.

    uvicorn snippets.mock_api.asgi:app --no-date-header --port 8080
    # then PROMPTOPS_BASE_URL=http://127.0.0.1:8080

`--no-date-header`: the mock sends its own `Date` (from its clock, skewed by `clock_skew`);
uvicorn would add a second one, and a client reading the first would see no skew.

For benchmarks and real-socket tests; everything else uses the respx mount, which needs no port.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import httpx

from snippets.mock_api.server import MockPromptOpsAPI

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SERVED_HISTORY: Final = 100
"""How many requests the adapter's own mock keeps in `api.requests` and `api.exchanges`: a
server may run for days, and a history of every request grows without end."""


class MockASGIApp:
    """Serves `api` over ASGI. `latency` is waited asynchronously (other requests proceed),
    like a real server's I/O; the mock's own `simulate_latency` would block the event loop."""

    def __init__(self, api: MockPromptOpsAPI | None = None, *, latency: float = 0.0) -> None:
        self.api = api or MockPromptOpsAPI(history=SERVED_HISTORY)
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to start or stop: acknowledge both
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        host, port = scope["server"]
        query = scope["query_string"]
        target = scope["raw_path"] + (b"?" + query if query else b"")
        request = httpx.Request(
            scope["method"],
            f"{scope['scheme']}://{host}:{port}{target.decode('latin-1')}",
            headers=list(scope["headers"]),  # bytes as received: any byte is a valid header byte
            content=body,
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        response = self.api.handle(request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": response.content})


# `uvicorn snippets.mock_api.asgi:app --no-date-header`; PROMPTOPS_MOCK_LATENCY adds seconds
# per request.
app = MockASGIApp(latency=float(os.environ.get("PROMPTOPS_MOCK_LATENCY", "0")))
