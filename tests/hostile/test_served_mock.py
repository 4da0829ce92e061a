"""The mock API served by uvicorn on 127.0.0.1 (what `--mock` readers, the copy check and
`uvicorn snippets.mock_api.asgi:app` give; its key is public), sent requests no client sends, as
raw bytes over a socket: every answer is the API's JSON envelope, an error one with a 4xx
status, never a 500 nor plain text. A 100 MiB body is refused at once, and 2,000 requests
leave its history at its bound.

Real sockets, real time: in the hostile session (`nox -s hostile`), a few seconds in all.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets.client import ERROR_CATALOG
from snippets.client.clock import SYSTEM_CLOCK
from snippets.client.signing import sign
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.mock_api.asgi import SERVED_HISTORY, MockASGIApp
from snippets.mock_api.endpoints import ENDPOINTS
from snippets.mock_api.server import MAX_BODY_BYTES, MAX_JSON_DEPTH

from ..local_server import serve

pytestmark = pytest.mark.hostile

RENDER = "/v1/client/prompts/hello-world/render"
BATCH = "/v1/client/prompts/batch-render"
# Every status an error envelope may come with: the catalog's, and VALIDATION_ERROR's 405, 413.
ERROR_STATUSES = {spec.code: {spec.status} for spec in ERROR_CATALOG if spec.status}
ERROR_STATUSES["VALIDATION_ERROR"] |= {405, 413}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, MockPromptOpsAPI]]:
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK, history=SERVED_HISTORY)  # as the served app's
    with serve(MockASGIApp(api)) as base_url:
        yield base_url, api


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def envelope(self) -> Any:
        """The body, once it is known to be one of the API's envelopes, as it should be."""
        assert self.headers.get("content-type") == "application/json", self
        envelope = json.loads(self.body)
        if self.status == 200:
            assert envelope["success"] is True and "data" in envelope, envelope
            return envelope
        assert set(envelope) == {"success", "error"} and envelope["success"] is False, envelope
        error = envelope["error"]
        assert isinstance(error["message"], str), envelope
        assert self.status in ERROR_STATUSES[error["code"]], (self.status, envelope)
        return envelope

    def error(self) -> tuple[int, str, str]:
        error = self.envelope()["error"]
        return self.status, error["code"], error["message"]


def parse(answer: bytes) -> Answer:
    head, separator, body = answer.partition(b"\r\n\r\n")
    assert separator, f"no whole answer: {answer[:200]!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":  # as uvicorn's own plain-text 500 came
        body = _unchunk(body)
    return Answer(int(status_line.split()[1]), headers, body)


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, body = body.partition(b"\r\n")
        out, body = out + body[: int(size, 16)], body[int(size, 16) + 2 :]
    return out


def exchange(base_url: str, request: bytes, *, timeout: float = 5) -> Answer:
    """Send `request` as raw bytes on a new connection; read the answer until the server closes
    (every request here asks `Connection: close`)."""
    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return parse(b"".join(chunks))


def request(
    method: str,
    target: str | bytes,
    body: bytes = b"",
    *,
    sign_as: str | None = None,
    headers: dict[str, bytes] | None = None,
) -> bytes:
    """Raw request bytes: signed for `sign_as` (the path as sent) if given, `headers` last."""
    lines: dict[str, bytes] = {"Host": b"127.0.0.1", "Connection": b"close"}
    if sign_as is not None:
        now = int(time.time())
        lines["Authorization"] = f"Bearer {MOCK_API_KEY}".encode()
        lines["X-PromptOps-Timestamp"] = str(now).encode()
        lines["X-PromptOps-Signature"] = sign(MOCK_API_KEY, now, method, sign_as, body).encode()
    if body:
        lines["Content-Type"] = b"application/json"
        lines["Content-Length"] = str(len(body)).encode()
    lines.update(headers or {})
    target = target.encode() if isinstance(target, str) else target
    head = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in lines.items())
    return method.encode() + b" " + target + b" HTTP/1.1\r\n" + head + b"\r\n" + body


def render(body: bytes) -> bytes:
    return request("POST", RENDER, body, sign_as=RENDER)


def signed_health(**headers: bytes) -> bytes:
    return request("GET", "/v1/client/health", sign_as="/v1/client/health", headers=headers)


WINDOW = "Request timestamp is more than 300 s from server time; check the client's clock"
MISSING = "Missing X-PromptOps-Timestamp or X-PromptOps-Signature header"
DEEP = f"Request body is nested more than {MAX_JSON_DEPTH} levels deep"
SURROGATE = "Request body has a lone surrogate (\\ud800 to \\udfff): not Unicode text"
TOO_LARGE = f"Request body is larger than {MAX_BODY_BYTES} bytes"

# (raw request, status, code, message): each one answered a plain-text 500 before, but the last,
# which waited for its 100 MiB. Made when the test runs: a signature is good for 300 s.
MALFORMED: dict[str, tuple[Callable[[], bytes], int, str, str]] = {
    "OPTIONS *": (lambda: request("OPTIONS", "*"), 404, "PROMPT_NOT_FOUND", "No endpoint *"),
    "GET *": (lambda: request("GET", "*"), 404, "PROMPT_NOT_FOUND", "No endpoint *"),
    "CONNECT authority-form": (
        lambda: request("CONNECT", "127.0.0.1:443"),
        404,
        "PROMPT_NOT_FOUND",
        "No endpoint 127.0.0.1:443",
    ),
    "a target without its leading slash": (
        lambda: request("GET", "v1/health"),
        404,
        "PROMPT_NOT_FOUND",
        "No endpoint v1/health",
    ),
    "400-digit timestamp": (
        lambda: signed_health(**{"X-PromptOps-Timestamp": b"9" * 400}),
        401,
        "AUTHENTICATION_ERROR",
        WINDOW,
    ),
    "5,000-digit timestamp": (
        lambda: signed_health(**{"X-PromptOps-Timestamp": b"9" * 5000}),
        401,
        "AUTHENTICATION_ERROR",
        WINDOW,
    ),
    "a superscript digit as timestamp": (
        lambda: signed_health(**{"X-PromptOps-Timestamp": "²".encode("latin-1")}),
        401,
        "AUTHENTICATION_ERROR",
        MISSING,
    ),
    "a signature with a byte that is not ASCII": (
        lambda: signed_health(**{"X-PromptOps-Signature": b"v1=\xe9"}),
        401,
        "AUTHENTICATION_ERROR",
        "Invalid API key or signature",
    ),
    "a render body 100,000 deep": (
        lambda: render(b"[" * 100_000 + b"]" * 100_000),
        422,
        "VALIDATION_ERROR",
        DEEP,
    ),
    "a lone surrogate as a variable's value": (
        lambda: render(b'{"variables": {"name": "\\ud800"}}'),
        422,
        "VALIDATION_ERROR",
        SURROGATE,
    ),
    "a lone surrogate as a variable's name": (
        lambda: render(b'{"variables": {"\\ud800": "x"}}'),
        422,
        "VALIDATION_ERROR",
        SURROGATE,
    ),
    "a lone surrogate as a batch prompt_id": (
        lambda: request("POST", BATCH, b'{"requests": [{"prompt_id": "\\ud800"}]}', sign_as=BATCH),
        422,
        "VALIDATION_ERROR",
        SURROGATE,
    ),
    "a declared body over 1 MiB, never sent": (
        lambda: request("POST", RENDER, headers={"Content-Length": b"104857600"}),
        413,
        "VALIDATION_ERROR",
        TOO_LARGE,
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_request_gets_a_json_envelope_with_a_4xx_status(
    served: tuple[str, MockPromptOpsAPI], case: str
) -> None:
    make, status, code, message = MALFORMED[case]
    assert exchange(served[0], make()).error() == (status, code, message)


@pytest.mark.parametrize(
    "target",
    [b"http://127.0.0.1/v1/health", b"HTTP://api.promptops.com:443/v1/health?probe=1"],
    ids=["http", "another host, upper-case scheme, a query"],
)
def test_an_absolute_form_target_is_answered_for_its_path(
    served: tuple[str, MockPromptOpsAPI], target: bytes
) -> None:
    """RFC 9112 section 3.2.2: a server must accept it (a client configured with the mock as
    its proxy sends it). It answered 500 in plain text before."""
    answer = exchange(served[0], request("GET", target))
    assert answer.envelope() == {"success": True, "data": {"status": "healthy"}}


def test_a_head_request_is_405_with_the_json_content_type_and_no_body(
    served: tuple[str, MockPromptOpsAPI],
) -> None:
    answer = exchange(served[0], request("HEAD", "/v1/health"))
    assert (answer.status, answer.headers["allow"], answer.body) == (405, "GET", b"")
    assert answer.headers["content-type"] == "application/json"


# -- generated: requests no client sends --------------------------------------------------------

# Each endpoint of the table, and paths the API does not have.
PATHS = [endpoint.target(prompt_id="hello-world") for endpoint in ENDPOINTS]
PATHS += ["/", "/v2/x", "//v1/health", "/v1/client/prompts/%ED%A0%80"]
visible = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
targets = st.one_of(
    st.sampled_from(PATHS),
    st.sampled_from(PATHS).map(lambda path: "http://127.0.0.1" + path),
    st.builds(lambda path, query: f"{path}?{query}", st.sampled_from(PATHS), visible),
    st.sampled_from(["*", "127.0.0.1:443", "v1/health", "http://h", "https://"]),
    visible.filter(bool),
)
# Text a JSON body may carry: any code point, lone surrogates too (json.dumps escapes them).
texts = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=8)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
variables = st.dictionaries(st.sampled_from(["name", "company", "x"]) | texts, values, max_size=3)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    values.map(lambda v: json.dumps(v).encode()),
    variables.map(lambda v: json.dumps({"variables": v}).encode()),
    st.lists(st.fixed_dictionaries({"prompt_id": texts | st.just("hello-world")}), max_size=3).map(
        lambda items: json.dumps({"requests": items}).encode()
    ),
    st.integers(1, 3000).map(
        lambda depth: b'{"variables": {"name": ' + b"[" * depth + b"]" * depth + b"}}"
    ),
)
header_values = st.binary(max_size=40).map(
    lambda raw: bytes(b for b in raw if b >= 0x21 and b != 0x7F) or b"x"  # what HTTP allows
)


@st.composite
def malformed_requests(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"]))
    target = draw(targets)
    body = draw(bodies)
    sign_as = draw(st.sampled_from([target, None, "/v1/health"]))
    tampered = draw(
        st.dictionaries(
            st.sampled_from(["Authorization", "X-PromptOps-Timestamp", "X-PromptOps-Signature"]),
            header_values
            | st.builds(bytes.__mul__, st.sampled_from([b"0", b"9"]), st.integers(1, 6000)),
            max_size=2,
        )
    )
    return request(method, target, body, sign_as=sign_as, headers=tampered)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=malformed_requests())
def test_every_generated_request_gets_a_json_envelope_and_never_a_5xx(
    served: tuple[str, MockPromptOpsAPI], raw: bytes
) -> None:
    """A success only if the request was in fact a good one; any other answer a 4xx error."""
    answer = exchange(served[0], raw)
    assert answer.status < 500, answer
    answer.envelope()


# -- a body of 100 MiB --------------------------------------------------------------------------


def stream_until_answered(
    base_url: str, head: bytes, piece: bytes, limit: int
) -> tuple[float, int, Answer]:
    """Send `head`, then `piece` after `piece` (up to `limit` bytes) until the server answers:
    the seconds to the answer, the bytes of body sent, the answer."""
    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        started = time.monotonic()
        connection.sendall(head)
        connection.setblocking(False)
        sent, received = 0, b""
        while time.monotonic() - started < 10:
            readable, writable, _ = select.select([connection], [connection], [], 1)
            if readable:
                data = connection.recv(65536)
                received += data
                if not data or (b"\r\n\r\n" in received and received.endswith(b"}")):
                    break
            elif writable and sent < limit:
                with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                    sent += connection.send(piece)
        return time.monotonic() - started, sent, parse(received)


HUNDRED_MIB = 100 * 2**20


def test_a_100_mib_body_is_refused_at_once_having_read_about_one_mib(
    served: tuple[str, MockPromptOpsAPI],
) -> None:
    """Chunked, so no length is declared: the adapter counts as it reads, and stops. Before,
    it read all of it, by repeated concatenation (about 10 s on this 2-core machine; 132 s in
    the run the issue reports)."""
    head = (
        f"POST {RENDER} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    piece = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"  # 64 KiB chunks
    seconds, sent, answer = stream_until_answered(served[0], head, piece, HUNDRED_MIB)
    assert answer.error() == (413, "VALIDATION_ERROR", TOO_LARGE)
    assert seconds < 2 and sent < 16 * 2**20, (seconds, sent)


def test_a_100_mib_body_sent_by_httpx_is_answered_413_within_seconds(
    served: tuple[str, MockPromptOpsAPI],
) -> None:
    """httpx sends it whole before it reads: the server's answer waits until the connection
    closes, which it does at once."""
    started = time.monotonic()
    response = httpx.post(served[0] + RENDER, content=b"a" * HUNDRED_MIB, timeout=10)
    assert (response.status_code, response.json()["error"]["message"]) == (413, TOO_LARGE)
    assert time.monotonic() - started < 5


# -- memory ---------------------------------------------------------------------------------------


def test_two_thousand_requests_leave_the_history_and_the_memory_at_their_bound(
    served: tuple[str, MockPromptOpsAPI],
) -> None:
    """Before, every request and answer was kept: about 3.5 KB each (+69 MB in RSS after
    20,000 GETs of uvicorn snippets.mock_api.asgi:app). Raw bytes on one kept-alive
    connection: an HTTP client would log each request, and the test keeps every log record."""
    base_url, api = served
    port = int(base_url.rsplit(":", 1)[1])
    get = b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:

        def health() -> int:
            connection.sendall(get)
            answer = b""
            while not answer.endswith(b"}"):
                answer += connection.recv(65536)
            return int(answer.split(b"X-Request-Id: req_", 1)[1][:6])

        tracemalloc.start()
        try:
            for _ in range(SERVED_HISTORY):  # the history full, of entries tracemalloc saw made
                first = health()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(2000):
                last = health()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert len(api.requests) == len(api.exchanges) == SERVED_HISTORY
    assert last - first == 2000  # each one numbered, kept or not
    assert grown < 1_000_000, f"{grown} bytes more after 2,000 requests (kept: about 7 MB)"
