"""The mock API behind a real HTTP server: an ASGI app around `MockPromptOpsAPI.handle`.

    uvicorn snippets.mock_api.asgi:app --no-date-header --port 8080
    # then PROMPTOPS_BASE_URL=http://127.0.0.1:8080

`--no-date-header`: the mock sends its own `Date` (from its clock, skewed by `clock_skew`);
uvicorn would add a second one, and a client reading the first would see no skew.

What HTTP itself brings, the adapter answers as the API would, with a JSON error envelope: a
request-target that is no path (`OPTIONS *`, `CONNECT host:443`) is 404, as an unknown path is.
An absolute-form target (`GET http://host/v1/health`, as sent to a proxy) is answered for its
path, as RFC 9112 asks. A body over `MAX_BODY_BYTES` is 413, and is not read further. An
upgrade to WebSocket gets its plain GET's answer. Only what uvicorn's HTTP parser refuses (a
request line that is not HTTP) never reaches it.

For benchmarks and real-socket tests; everything else uses the respx mount, which needs no port.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import httpx

from snippets.mock_api.server import MAX_BODY_BYTES, MockPromptOpsAPI

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SERVED_HISTORY: Final = 100
"""How many requests the adapter's own mock keeps in `api.requests` and `api.exchanges`: a
server may run for days, and a history of every request grows without end."""

_ABSOLUTE_FORM = re.compile(rb"https?://[^/]*", re.IGNORECASE)  # scheme and authority


class _Disconnected(Exception):
    """The client went away before its body was read: there is no one to answer."""


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
        if scope["type"] == "websocket":  # an Upgrade request, with uvicorn[standard]
            await self._answer_websocket(scope, receive, send)
            return
        try:
            response = await self._answer(scope, receive)
        except _Disconnected:
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.headers.raw,
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    async def _answer_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The API has no WebSocket endpoint: an upgrade request gets the answer its plain GET
        gets (a server may ignore Upgrade, RFC 9110 section 7.8), sent in place of the
        handshake where the server can (ASGI's `websocket.http.response` extension: uvicorn
        with the websockets library); elsewhere it is refused (uvicorn answers 403)."""
        await receive()  # websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close"})
            return

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
        response = await self._answer({**scope, "method": "GET", "scheme": scheme}, no_body)
        await send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": response.headers.raw,
            }
        )
        await send({"type": "websocket.http.response.body", "body": response.content})

    async def _answer(self, scope: Scope, receive: Receive) -> httpx.Response:
        raw_path = scope.get("raw_path") or scope["path"].encode()  # raw_path is optional
        path = _path_of(raw_path)
        if path is None:
            return self.api.answer_no_path(raw_path.decode("latin-1"))
        body = await _read_body(scope, receive)
        if body is None:
            return self.api.answer_too_large()
        query = scope["query_string"]
        target = (path + (b"?" + query if query else b"")).decode("latin-1")
        host, port = scope.get("server") or ("localhost", None)  # None: a Unix socket
        origin = httpx.URL(scheme=scope["scheme"], host=host, port=port)  # brackets IPv6
        try:
            url = httpx.URL(f"{origin}{target}")
        except httpx.InvalidURL:  # what the parser let through and httpx does not take
            return self.api.answer_no_path(target)
        request = httpx.Request(
            scope["method"],
            url,
            headers=list(scope["headers"]),  # bytes as received: any byte is a valid header byte
            content=body,
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        return self.api.handle(request)


def _path_of(raw_path: bytes) -> bytes | None:
    """The path a request-target names: its own (origin-form, `/v1/health`); an absolute-form
    target's (`http://host/v1/health`, which RFC 9112 section 3.2.2 says a server must accept);
    None for one with no path (`*`, `host:443`, `v1/health`).

    uvicorn's h11 parser leaves an absolute-form target whole in `raw_path`; httptools gives
    its path.
    """
    if raw_path.startswith(b"/"):
        return raw_path
    authority = _ABSOLUTE_FORM.match(raw_path)
    if authority is None:
        return None
    return raw_path[authority.end() :]  # empty for `http://host`: httpx reads it as "/"


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The request's body, read in linear time; None, and nothing more read, once it is over
    `MAX_BODY_BYTES`: a declared `Content-Length` is checked before reading, a chunked body as
    it arrives."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length" and value.isdigit():
            declared = value.lstrip(b"0") or b"0"  # compared as text first: it may be long
            if len(declared) > len(str(MAX_BODY_BYTES)) or int(declared) > MAX_BODY_BYTES:
                return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body"):
            return bytes(body)


# `uvicorn snippets.mock_api.asgi:app --no-date-header`; PROMPTOPS_MOCK_LATENCY adds seconds
# per request.
app = MockASGIApp(latency=float(os.environ.get("PROMPTOPS_MOCK_LATENCY", "0")))
