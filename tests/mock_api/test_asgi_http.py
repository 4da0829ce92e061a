"""What HTTP brings that `handle` never sees (request-targets that are no path, bodies over the
limit, a client that hangs up), answered by the ASGI adapter as the API would: the adapter
called directly, in memory. Over real sockets: tests/hostile/test_served_mock.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from snippets.mock_api import MockPromptOpsAPI, asgi
from snippets.mock_api.asgi import SERVED_HISTORY, MockASGIApp
from snippets.mock_api.server import MAX_BODY_BYTES

TOO_LARGE = f"Request body is larger than {MAX_BODY_BYTES} bytes"


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
    if full_scope["type"] == "websocket":
        del full_scope["method"]  # a websocket scope has none
    asyncio.run(app(full_scope, receive, send))
    return exchange


@pytest.fixture
def app() -> MockASGIApp:
    return MockASGIApp(MockPromptOpsAPI())


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("OPTIONS", b"*"),
        ("GET", b"*"),
        ("CONNECT", b"127.0.0.1:443"),
        ("GET", b"v1/health"),
    ],
    ids=["OPTIONS * (asterisk-form)", "GET *", "CONNECT (authority-form)", "no leading slash"],
)
def test_a_target_that_is_no_path_is_404_as_an_unknown_path_is(
    app: MockASGIApp, method: str, target: bytes
) -> None:
    answer = call(app, method=method, raw_path=target)
    assert answer.error == (404, "PROMPT_NOT_FOUND", f"No endpoint {target.decode()}")
    assert answer.headers[b"content-type"] == b"application/json"
    assert answer.headers[b"x-request-id"] == b"req_000001"
    assert app.api.requests == []  # no httpx.Request can hold such a target


@pytest.mark.parametrize(
    "target",
    [b"http://127.0.0.1/v1/health", b"HTTPS://other.example:8443/v1/health", b"http://h"],
    ids=["http", "https, another host, upper case", "no path: /"],
)
def test_an_absolute_form_target_is_answered_for_its_path(app: MockASGIApp, target: bytes) -> None:
    """RFC 9112 section 3.2.2: a server must accept the absolute form (uvicorn's h11 parser
    passes it whole in raw_path; httptools passes its path)."""
    answer = call(app, raw_path=target)
    if target.endswith(b"/v1/health"):
        assert (answer.status, answer.json) == (
            200,
            {"success": True, "data": {"status": "healthy"}},
        )
        assert app.api.requests[-1].url.raw_path == b"/v1/health"
    else:
        assert answer.error == (404, "PROMPT_NOT_FOUND", "No endpoint /")


def test_a_query_follows_the_path_of_an_absolute_form_target(app: MockASGIApp) -> None:
    call(app, raw_path=b"http://h/v1/health", query_string=b"a=1")
    assert app.api.requests[-1].url.raw_path == b"/v1/health?a=1"


def test_without_raw_path_the_path_is_used(app: MockASGIApp) -> None:
    """raw_path is optional in ASGI."""
    answer = call(app, raw_path=None, path="/v1/health")
    assert answer.status == 200


@pytest.mark.parametrize(
    ("server", "url"),
    [(("::1", 8000), "http://[::1]:8000/v1/health"), (None, "http://localhost/v1/health")],
    ids=["IPv6 (in brackets)", "a Unix socket (no server address)"],
)
def test_the_request_url_is_built_for_any_server_address(
    app: MockASGIApp, server: Any, url: str
) -> None:
    answer = call(app, server=server)
    assert answer.status == 200 and str(app.api.requests[-1].url) == url


def test_a_fragment_in_the_target_is_not_part_of_the_path(app: MockASGIApp) -> None:
    """h11 lets `#` through; a URL's fragment is never sent, so it names no path."""
    assert call(app, raw_path=b"/v1/health#top").status == 200


def test_a_target_httpx_cannot_take_is_404_not_a_crash(app: MockASGIApp) -> None:
    """A NUL byte: h11 refuses it before the adapter, a more lenient parser might not."""
    answer = call(app, raw_path=b"/v1/health\x00")
    assert answer.error == (404, "PROMPT_NOT_FOUND", "No endpoint /v1/health\x00")


def test_a_declared_length_over_the_limit_is_413_before_any_read(app: MockASGIApp) -> None:
    length = str(MAX_BODY_BYTES + 1).encode()
    answer = call(app, method="POST", headers=[(b"content-length", length)], chunks=[b"x"])
    assert answer.error == (413, "VALIDATION_ERROR", TOO_LARGE)
    assert answer.reads == 0


@pytest.mark.parametrize(
    "length", [b"9" * 5000, b"0" * 5000 + b"2"], ids=["5,000 digits", "5,000 leading zeros"]
)
def test_a_declared_length_of_thousands_of_digits_is_read_as_a_number(
    app: MockASGIApp, length: bytes
) -> None:
    answer = call(app, method="POST", headers=[(b"content-length", length)], chunks=[b"{}"])
    assert answer.status == (413 if length.startswith(b"9") else 405)


def test_a_streamed_body_is_read_until_it_is_over_the_limit_and_no_further(
    app: MockASGIApp,
) -> None:
    chunks = [b"x" * 2**18] * 8  # 2 MiB in 256 KiB pieces: the fifth is over 1 MiB
    answer = call(app, method="POST", chunks=chunks)
    assert answer.error == (413, "VALIDATION_ERROR", TOO_LARGE)
    assert answer.reads == 5


def test_a_streamed_body_of_exactly_the_limit_reaches_the_mock(app: MockASGIApp) -> None:
    chunks = [b" " * (MAX_BODY_BYTES - 2), b"{}"]
    answer = call(app, method="POST", raw_path=b"/v1/client/prompts/batch-render", chunks=chunks)
    assert answer.status == 401  # read whole, then refused as unsigned
    assert app.api.requests[-1].content == b"".join(chunks)


def test_a_client_that_hangs_up_mid_body_gets_no_answer(app: MockASGIApp) -> None:
    answer = call(app, method="POST", chunks=[b"{", b"}"], disconnect=True)
    assert answer.sent == [] and app.api.requests == []


def test_the_served_app_keeps_a_bounded_history() -> None:
    """`uvicorn snippets.mock_api.asgi:app` runs for days: it keeps the last requests only."""
    assert asgi.app.api.history == MockASGIApp().api.history == SERVED_HISTORY
    app = MockASGIApp()
    for _ in range(SERVED_HISTORY + 5):
        answer = call(app)
    assert len(app.api.requests) == len(app.api.exchanges) == SERVED_HISTORY
    assert answer.headers[b"x-request-id"] == f"req_{SERVED_HISTORY + 5:06d}".encode()


@pytest.mark.parametrize(
    ("path", "status"), [(b"/v1/health", 200), (b"*", 404)], ids=["an API path", "no path"]
)
def test_a_websocket_upgrade_gets_the_answer_its_plain_get_gets(
    app: MockASGIApp, path: bytes, status: int
) -> None:
    """uvicorn with the websockets library hands an Upgrade request over as a websocket scope;
    the adapter used to read its (absent) method and crash: a plain-text 500."""
    answer = call(
        app,
        raw_path=path,
        type="websocket",
        scheme="ws",
        extensions={"websocket.http.response": {}},
        chunks=[b"{}"],  # stands for websocket.connect: read once, never as a body
    )
    assert [m["type"] for m in answer.sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert answer.status == status and answer.reads == 1
    assert answer.headers[b"content-type"] == b"application/json"
    if status == 200:
        assert str(app.api.requests[-1].url) == "http://127.0.0.1:8000/v1/health"


def test_a_websocket_upgrade_is_refused_where_no_http_answer_can_be_sent(
    app: MockASGIApp,
) -> None:
    answer = call(app, type="websocket", scheme="ws", chunks=[b""])
    assert answer.sent == [{"type": "websocket.close"}] and app.api.requests == []
