"""The ASGI adapter called directly, in memory, as uvicorn calls it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from snippets.mock_api import asgi
from snippets.mock_api.asgi import SERVED_HISTORY, MockASGIApp


@dataclass
class Exchange:
    """One request through the adapter: the body messages it read, and what it sent."""

    reads: int = 0
    sent: list[MutableMapping[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        """Names in lower case: the adapter sends the mock's own spelling."""
        return {name.lower(): value for name, value in self.sent[0]["headers"]}

    @property
    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))

    @property
    def error(self) -> tuple[int, str, str]:
        error = self.json["error"]
        return self.status, error["code"], error["message"]


def call(
    app: MockASGIApp,
    *,
    method: str = "GET",
    raw_path: bytes | None = b"/v1/health",
    path: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
    disconnect: bool = False,
    **scope: Any,
) -> Exchange:
    """Call `app` with one HTTP request, as uvicorn would: its body in `chunks`."""
    pieces = chunks or [b""]
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]
    if disconnect:
        messages[-1:] = [{"type": "http.disconnect"}]
    exchange = Exchange()

    async def receive() -> dict[str, Any]:
        exchange.reads += 1
        return messages[exchange.reads - 1]

    async def send(message: MutableMapping[str, Any]) -> None:
        exchange.sent.append(message)

    full_scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path if path is not None else (raw_path or b"").decode("latin-1"),
        "raw_path": raw_path,
        "query_string": b"",
        "headers": headers or [],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        **scope,
    }
    asyncio.run(app(full_scope, receive, send))
    return exchange


def test_the_served_app_keeps_a_bounded_history() -> None:
    """`uvicorn snippets.mock_api.asgi:app` runs for days: it keeps the last requests only."""
    assert asgi.app.api.history == MockASGIApp().api.history == SERVED_HISTORY
    app = MockASGIApp()
    for _ in range(SERVED_HISTORY + 5):
        answer = call(app)
    assert len(app.api.requests) == len(app.api.exchanges) == SERVED_HISTORY
    assert answer.headers[b"x-request-id"] == f"req_{SERVED_HISTORY + 5:06d}".encode()
