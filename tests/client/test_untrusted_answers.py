"""Whatever a server answers, only documented `PromptOpsError`s leave the client, with clear,
secret-free, one-line messages. Fake time, in-memory transports: the same faults over real
sockets and real time are in tests/hostile."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import logging
import math
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from snippets.client import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    PromptOpsClient,
    PromptOpsError,
    RateLimitError,
    RenderedPrompt,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from snippets.client._client import (
    INITIAL_BACKOFF,
    JITTER,
    MAX_RESPONSE_BYTES,
    _decompressed,
    _TooLarge,
)
from snippets.client.clock import FakeClock
from snippets.client.redaction import redact_url

pytestmark = pytest.mark.matrix  # a table of bad answers: nox -s matrix

KEY = "po_live_untrusted_5c8e1a"
Respond = Callable[[httpx.Request], httpx.Response]

METHODS: dict[str, tuple[str, Callable[[PromptOpsClient], Awaitable[Any]]]] = {
    "health_check": ("GET /v1/client/health", lambda c: c.health_check()),
    "list_prompts": ("GET /v1/client/prompts", lambda c: c.list_prompts()),
    "get_prompt": ("GET /v1/client/prompts/hello-world", lambda c: c.get_prompt("hello-world")),
    "render_prompt": (
        "POST /v1/client/prompts/hello-world/render",
        lambda c: c.render_prompt("hello-world", {"name": "Ada"}),
    ),
    "batch_render": (
        "POST /v1/client/prompts/batch-render",
        lambda c: c.batch_render([("hello-world", {"name": "Ada"}), ("hello-world", {})]),
    ),
}


def call(
    method: str, respond: Respond, clock: FakeClock | None = None, **settings: Any
) -> tuple[Any, list[httpx.Request]]:
    """Run one client method against `respond`; return its result and the requests sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return respond(request)

    async def main() -> Any:
        transport = httpx.MockTransport(handler)
        async with PromptOpsClient(
            KEY, transport=transport, clock=clock or FakeClock(), **settings
        ) as client:
            return await METHODS[method][1](client)

    return asyncio.run(main()), sent


def raised(method: str, respond: Respond, **settings: Any) -> PromptOpsError:
    with pytest.raises(PromptOpsError) as caught:
        call(method, respond, **settings)
    return caught.value


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Respond:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    return lambda request: httpx.Response(status, content=content, headers=headers)


ODD_SUCCESS_BODIES = {
    "no data": {"success": True},
    "data is a list": {"success": True, "data": []},
    "data is null": {"success": True, "data": None},
    "data is empty": {"success": True, "data": {}},
    "fields of the wrong type": {
        "success": True,
        "data": {
            "status": 1,
            "version": [],
            "prompts": {},
            "id": None,
            "prompt_id": 7,
            "results": "none",
        },
    },
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("body", ODD_SUCCESS_BODIES)
def test_an_odd_success_body_is_a_server_error_naming_the_endpoint(method: str, body: str) -> None:
    error = raised(method, answer(ODD_SUCCESS_BODIES[body]))
    assert type(error) is ServerError
    endpoint = METHODS[method][0]
    assert error.message.startswith(f"{endpoint} answered HTTP 200 with a malformed body: data")


def test_the_message_says_which_field_is_wrong() -> None:
    body = {"success": True, "data": {"status": "ok", "version": 2}}
    assert raised("health_check", answer(body)).message == (
        "GET /v1/client/health answered HTTP 200 with a malformed body: "
        "data.version is an integer, not a string"
    )


BATCH = "POST /v1/client/prompts/batch-render answered HTTP 200 with a malformed body: "
GOOD_ITEM = {"prompt_id": "hello-world", "content": "Hello, Ada!"}


@pytest.mark.parametrize(
    ("second_item", "wrong"),
    [
        ({"prompt_id": "hello-world"}, "data.results[1].content is missing"),
        ({"prompt_id": 7, "content": "x"}, "data.results[1].prompt_id is an integer, not a string"),
        ({"prompt_id": "other", "content": "x"}, "data.results[1].prompt_id is 'other'"),
        ({"error": {"code": 5, "message": "m"}}, "data.results[1].error.code is an integer"),
        ({"error": {"code": "X", "message": None}}, "data.results[1].error.message is null"),
        ([], "data.results[1] is a list, not an object"),
    ],
    ids=["no content", "id not a string", "another id", "code", "message", "a list"],
)
def test_a_malformed_batch_item_is_named_by_its_place(second_item: Any, wrong: str) -> None:
    body = {"success": True, "data": {"results": [GOOD_ITEM, second_item]}}
    message = raised("batch_render", answer(body)).message
    assert message.startswith(BATCH + wrong), message


def test_a_batch_item_error_with_a_code_this_client_does_not_know_is_a_promptops_error() -> None:
    unknown = {"error": {"code": "NEW_CODE", "message": "something new"}}
    body = {"success": True, "data": {"results": [GOOD_ITEM, unknown]}}
    (first, second), _ = call("batch_render", answer(body))
    assert first == RenderedPrompt("hello-world", "Hello, Ada!")
    assert type(second) is PromptOpsError and second.message == "something new"


def test_a_prompt_with_a_boolean_version_is_malformed() -> None:
    data = {"id": "hello-world", "name": "n", "template": "t", "variables": [], "version": True}
    error = raised("get_prompt", answer({"success": True, "data": data}))
    assert error.message.endswith("data.version is a boolean, not an integer")


def test_a_prompt_other_than_the_one_asked_for_is_malformed() -> None:
    data = {"id": "other", "name": "n", "template": "t", "variables": [], "version": 1}
    error = raised("get_prompt", answer({"success": True, "data": data}))
    assert error.message.endswith("data.id is 'other', not the requested 'hello-world'")


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_batch_answer_with_another_number_of_results_is_malformed(count: int) -> None:
    result = {"prompt_id": "hello-world", "content": "Hello, Ada!"}
    body = {"success": True, "data": {"results": [result] * count}}
    error = raised("batch_render", answer(body))
    assert type(error) is ServerError
    assert error.message.endswith(f"malformed body: {count} results for 2 requests")


def test_a_batch_answer_with_one_result_per_request_is_accepted() -> None:
    ok = {"prompt_id": "hello-world", "content": "Hello, Ada!"}
    failed = {"prompt_id": "hello-world", "error": {"code": "VALIDATION_ERROR", "message": "m"}}
    results, _ = call("batch_render", answer({"success": True, "data": {"results": [ok, failed]}}))
    assert [type(r).__name__ for r in results] == ["RenderedPrompt", "ValidationError"]


@pytest.mark.parametrize("method", METHODS)
def test_deeply_nested_json_is_a_server_error_not_a_recursion_error(method: str) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    error = raised(method, answer(deep))
    assert type(error) is ServerError and "not a PromptOps JSON envelope" in error.message


@pytest.mark.parametrize("method", METHODS)
def test_a_body_over_the_size_limit_is_refused_while_it_streams(method: str) -> None:
    """An endless body: the client stops reading just past its limit."""
    streamed = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal streamed
        while True:
            streamed += 65_536
            yield b" " * 65_536

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=endless())

    error = raised(method, respond, max_response_bytes=1_000_000)
    assert type(error) is ServerError
    assert "over the 1000000 byte limit (max_response_bytes)" in error.message
    assert 1_000_000 < streamed <= 1_000_000 + 2 * 65_536


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    respond = answer(b"{}", headers={"Content-Length": str(10**12)})
    error = raised("health_check", respond)
    assert error.message.endswith(
        f"a body of 1000000000000 bytes, over the {MAX_RESPONSE_BYTES} byte limit "
        "(max_response_bytes)"
    )


def test_the_default_limit_is_10_mib() -> None:
    assert PromptOpsClient(KEY).max_response_bytes == 10 * 1024 * 1024


def envelope(code: str, message: str = "m", **extra: Any) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message, **extra}}


def test_a_401_that_says_rate_limit_is_an_authentication_error_and_not_retried() -> None:
    sent: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(envelope("RATE_LIMIT_ERROR", "slow down", retry_after=1), 401)(request)

    error = raised("health_check", respond, max_retries=5)
    assert type(error) is AuthenticationError and error.status_code == 401
    assert error.message == "RATE_LIMIT_ERROR: slow down"
    assert len(sent) == 1


def test_a_503_that_says_not_found_is_a_server_error_and_retried() -> None:
    sent: list[int] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        return answer(envelope("PROMPT_NOT_FOUND"), 503)(request)

    with pytest.raises(ServerError):
        call("get_prompt", respond, max_retries=2)
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        (0, None),
        (-5, None),
        (None, "0"),
        (None, "-3"),
        (None, "NaN"),
        (None, "soon"),
        (None, "Thu, 01 Jan 2015 00:00:00 GMT"),  # in the past
        (0, "0"),
    ],
)
def test_a_retry_after_of_no_time_falls_back_to_the_normal_backoff(
    retry_after: int | None, header: str | None
) -> None:
    extra: dict[str, Any] = {} if retry_after is None else {"retry_after": retry_after}
    headers = {} if header is None else {"Retry-After": header}
    clock = FakeClock()
    with pytest.raises(RateLimitError) as caught:
        call(
            "health_check",
            answer(envelope("RATE_LIMIT_ERROR", **extra), 429, headers),
            clock=clock,
            max_retries=3,
        )
    assert caught.value.retry_after is None
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps):
        assert slept >= INITIAL_BACKOFF * 2**attempt * (1 - JITTER)


NOW = FakeClock().time()


@pytest.mark.parametrize(
    ("retry_after", "header", "expected"),
    [
        (None, "3", 3.0),
        (None, "2.5", 2.5),
        (None, email.utils.formatdate(NOW + 20, usegmt=True), 20.0),
        (4, "9", 4.0),  # the body wins
        (0, "9", 9.0),  # an unusable body value: the header
        (None, "1" + "0" * 400, math.inf),
        (10**400, None, math.inf),
        (None, "1e999", math.inf),
        (None, "soon", None),  # garbage: no wait from the server, the normal backoff
        (None, email.utils.formatdate(NOW - 20, usegmt=True), None),  # a date in the past
        (None, "-5", None),
        (None, "nan", None),
    ],
)
def test_retry_after_is_read_from_the_body_then_the_header(
    retry_after: int | None, header: str | None, expected: float
) -> None:
    extra: dict[str, Any] = {} if retry_after is None else {"retry_after": retry_after}
    headers = {} if header is None else {"Retry-After": header}
    respond = answer(envelope("RATE_LIMIT_ERROR", **extra), 429, headers)
    error = raised("health_check", respond, max_retries=0)
    assert isinstance(error, RateLimitError) and error.retry_after == expected


def test_a_huge_retry_after_is_raised_at_once_without_waiting() -> None:
    clock = FakeClock()
    respond = answer(envelope("RATE_LIMIT_ERROR", retry_after=10**400), 429)
    with pytest.raises(RateLimitError):
        call("health_check", respond, clock=clock, max_retries=5)
    assert clock.sleeps == []


def test_retry_after_is_a_minimum_the_backoff_still_grows() -> None:
    clock = FakeClock()
    respond = answer(envelope("RATE_LIMIT_ERROR", retry_after=1), 429)
    with pytest.raises(RateLimitError):
        call("health_check", respond, clock=clock, max_retries=4)
    assert all(1.0 <= wait <= 1.0 * (1 + JITTER) for wait in clock.sleeps[:2])
    assert clock.sleeps[3] >= 4 * (1 - JITTER)


def test_a_key_the_server_echoes_back_is_scrubbed_from_the_error() -> None:
    signatures: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        signatures.append(request.headers["X-PromptOps-Signature"])
        echoed = f"rejected {request.headers['Authorization']} {signatures[-1]} key={KEY}"
        return answer(envelope("AUTHENTICATION_ERROR", echoed), 401)(request)

    error = raised("health_check", respond)
    assert error.message == "rejected Bearer *** v1=*** key=***"
    text = f"{error} {error!r}"
    assert KEY not in text and signatures[0] not in text


def test_pieces_of_the_key_a_server_quotes_are_scrubbed_too() -> None:
    """Without its prefix, lower-cased, or cut: ten characters of the key or more are hidden;
    fewer could be any word."""
    secret_part, head = KEY.removeprefix("po_live_"), KEY[:12]
    quoted = f"[{secret_part}] [{KEY.lower()}] [{head}] [{KEY.upper()}] revoked"
    error = raised("health_check", answer(envelope("AUTHENTICATION_ERROR", quoted), 401))
    assert error.message == "[***] [***] [***] [***] revoked"


def test_server_text_is_shown_on_one_line_with_control_characters_escaped() -> None:
    message = "bad\n2026-01-01 INFO forged line\x1b[2J\u202e"
    error = raised("health_check", answer(envelope("SERVER_ERROR", message), 500))
    assert error.message == "bad\\n2026-01-01 INFO forged line\\x1b[2J\\u202e"
    assert error.message.isprintable()


def test_a_long_server_message_is_cut() -> None:
    error = raised("health_check", answer(envelope("SERVER_ERROR", "x" * 10_000), 500))
    assert error.message.endswith("... (9500 more characters)")


def test_a_redirect_is_not_followed() -> None:
    headers = {"Location": "https://elsewhere.example/steal?k=1", "Content-Type": "text/html"}
    respond = answer(b"", 302, headers)
    error = raised("health_check", respond)
    assert type(error) is ServerError and error.status_code == 302
    assert error.message == (
        "GET /v1/client/health answered HTTP 302 with a body that is not a PromptOps JSON "
        "envelope (text/html, 0 bytes): a redirect to https://elsewhere.example/steal?***, "
        "which the client does not follow"
    )


@pytest.mark.parametrize(
    ("status", "headers", "shown"),
    [
        (
            300,
            {},
            "(no content type, 0 bytes): a redirect to nowhere, which the client does not follow",
        ),
        (
            399,
            {"Content-Type": "text/plain"},
            "(text/plain, 0 bytes): a redirect to nowhere, which the client does not follow",
        ),
        (400, {"Content-Type": "text/plain"}, "(text/plain, 0 bytes)"),
    ],
    ids=["300", "399", "400"],
)
def test_a_body_that_is_no_envelope_is_described_and_a_3xx_named_a_redirect(
    status: int, headers: dict[str, str], shown: str
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:  # empty, and no JSON Content-Type
        return httpx.Response(status, content=b"", headers=headers)

    error = raised("health_check", respond, max_retries=0)
    assert error.message == (
        "GET /v1/client/health answered HTTP "
        f"{status} with a body that is not a PromptOps JSON envelope {shown}"
    )


@pytest.mark.parametrize(
    ("status", "error", "cls", "message"),
    [
        (503, {"code": "SERVER_ERROR"}, ServerError, ""),
        (418, {"code": "VALIDATION_ERROR", "message": "m"}, ValidationError, "m"),
        (
            400,
            {"code": "C" * 60, "message": "m"},
            PromptOpsError,
            f"{'C' * 50}... (10 more characters): m",
        ),
    ],
    ids=["no message", "a known code on a status the catalog has not", "a long unknown code"],
)
def test_an_error_envelope_is_read_for_what_the_status_leaves_open(
    status: int, error: dict[str, str], cls: type[PromptOpsError], message: str
) -> None:
    found = raised(
        "health_check", answer({"success": False, "error": error}, status), max_retries=0
    )
    assert (type(found), found.message) == (cls, message)


@pytest.mark.parametrize(("status", "cls"), [(599, ServerError), (600, PromptOpsError)])
def test_any_5xx_is_a_server_error_and_nothing_past_it(
    status: int, cls: type[PromptOpsError]
) -> None:
    body = {"success": False, "error": {"code": "TEAPOT", "message": "m"}}
    assert type(raised("health_check", answer(body, status), max_retries=0)) is cls


@pytest.mark.parametrize(
    "failure",
    [OverflowError("port out of range"), ExceptionGroup("x", [OverflowError()]), RuntimeError()],
)
def test_any_transport_failure_is_a_network_error(failure: Exception) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        raise failure

    error = raised("health_check", respond, max_retries=0)
    assert type(error) is NetworkError


def test_a_failing_event_hook_is_logged_and_does_not_fail_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken_logger(request: httpx.Request) -> None:
        raise OSError(28, "No space left on device")

    def broken_sync_hook(response: httpx.Response) -> None:
        raise KeyError("X-Request-Id")

    ok = answer({"success": True, "data": {"status": "healthy", "version": "1"}})
    hooks = {"request": [broken_logger], "response": [broken_sync_hook]}
    with caplog.at_level(logging.WARNING, "promptops"):
        health, _ = call("health_check", ok, event_hooks=hooks)
    assert health.status == "healthy"
    assert [r.getMessage() for r in caplog.records] == [
        "event hook broken_logger failed, ignored: OSError: [Errno 28] No space left on device",
        "event hook broken_sync_hook failed, ignored: KeyError: 'X-Request-Id'",
    ]


def test_a_call_that_never_gets_an_answer_ends_at_the_deadline() -> None:
    """The deadline holds on the event loop's real clock, even with a fake clock for waits."""

    class Silent(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.Event().wait()  # never set
            raise AssertionError("unreachable")

    async def main() -> None:
        async with PromptOpsClient(KEY, transport=Silent(), timeout=0.05, clock=FakeClock()) as c:
            await c.health_check()

    with pytest.raises(RequestTimeoutError) as caught:
        asyncio.run(main())
    assert caught.value.message == (
        "GET /v1/client/health: no answer within the 0.05 s deadline (1 attempt; it timed out "
        "waiting for the answer)"
    )


@pytest.mark.parametrize(
    ("key", "kind", "position"),
    [
        ("po_live_abc\ndef", "a space or line break", 12),
        ("po_live_abc def", "a space or line break", 12),
        ("po_live_abc\x00def", "a control or non-ASCII character", 12),
        ("po_live_abc\x1bdef", "a control or non-ASCII character", 12),
        ("po_live_abcé", "a control or non-ASCII character", 12),
    ],
)
def test_a_key_with_whitespace_or_control_characters_inside_is_rejected(
    key: str, kind: str, position: int
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(key)
    assert str(caught.value) == (
        f"The API key (api_key) has {kind} at character {position}: copy it again, without "
        "spaces, quotes or line breaks (nothing was sent)"
    )


def test_spaces_and_a_line_break_around_the_key_are_stripped() -> None:
    assert PromptOpsClient(f"  {KEY}\n")._api_key == KEY


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (
            "https://alice:s3cret@api.promptops.com",
            "base_url must not contain a user or password ('https://***@api.promptops.com'): "
            "the client signs in with the API key",
        ),
        (
            "https://api.promptops.com/?api_key=s3cret",
            "base_url must not have a query string or fragment, got "
            "'https://api.promptops.com/?***'",
        ),
        ("https://api.promptops.com:99999", "base_url has port 99999: ports are 1 to 65535"),
        ("https://api.promptops.com:0", "base_url has port 0: ports are 1 to 65535"),
        (
            "http://[::1",
            "base_url must be an http(s) URL such as 'https://api.promptops.com', got 'http://[::1'",
        ),
    ],
)
def test_bad_base_urls_are_rejected_without_showing_credentials(
    base_url: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(KEY, base_url=base_url)
    assert str(caught.value) == message


def test_an_empty_base_url_variable_is_an_error_not_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "")
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(KEY)
    assert str(caught.value) == "PROMPTOPS_BASE_URL is empty: unset it for the default"


def test_a_proxy_s_html_429_is_a_rate_limit_error_retried_after_its_header() -> None:
    """The class and the retry follow the status even without a PromptOps envelope."""
    clock = FakeClock()
    headers = {"Content-Type": "text/html", "Retry-After": "7"}
    with pytest.raises(RateLimitError) as caught:
        call("health_check", answer(b"<h1>Too Many Requests</h1>", 429, headers), clock=clock)
    assert caught.value.retry_after == 7.0
    assert len(clock.sleeps) == 2
    assert all(7.0 <= wait <= 7.0 * (1 + JITTER) for wait in clock.sleeps)


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_key_in_quotes_is_rejected_before_anything_is_sent(quote: str) -> None:
    """What a .env file with KEY="po_..." gives a program that does not strip the quotes."""
    with pytest.raises(ConfigurationError, match="quotes around it"):
        PromptOpsClient(f"{quote}{KEY}{quote}")


@pytest.mark.parametrize("content", [None, b"not a certificate"])
def test_an_unusable_ca_bundle_is_a_configuration_error_naming_it(
    content: bytes | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong SSL_CERT_FILE (the fix the TLS section suggests, with a typo) fails at once, at
    construction, not as an OSError out of the first call."""
    bundle = tmp_path / "corporate-ca.pem"
    if content is not None:
        bundle.write_bytes(content)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(KEY)
    assert str(caught.value).startswith(
        (
            f"SSL_CERT_FILE={str(bundle)!r} cannot be loaded: ",
            f"The CA bundle SSL_CERT_FILE={bundle} cannot be read: ",
        )
    )


# mtime=0: the same bytes in every pytest worker (the header holds a time)
GZIPPED = gzip.compress(b'{"success": true, "data": {"status": "ok", "version": "1"}}', mtime=0)


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", GZIPPED),
        ("deflate", zlib.compress(gzip.decompress(GZIPPED))),
        ("deflate", zlib.compress(gzip.decompress(GZIPPED))[2:-4]),  # raw deflate, as IIS sends
        ("identity", gzip.decompress(GZIPPED)),
        ("identity, gzip", GZIPPED),
        ("gzip, identity", GZIPPED),
        ("x-gzip", GZIPPED),
    ],
    ids=[
        "gzip",
        "deflate-zlib",
        "deflate-raw",
        "identity",
        "identity-then-gzip",
        "gzip-then-identity",
        "x-gzip",
    ],
)
def test_compressed_answers_are_decompressed(encoding: str, body: bytes) -> None:
    assert _decompressed(body, encoding, 1000) == gzip.decompress(GZIPPED)


def test_output_in_more_than_one_piece_is_decompressed_whole() -> None:
    """Zeros compress to a few bytes that the first read consumes: the rest of the output
    is still in the decompressor, 64 KiB at a time."""
    body = b"0" * 200_000
    assert _decompressed(gzip.compress(body), "gzip", 1_000_000) == body


def test_decompression_stops_at_the_limit_without_inflating_the_rest() -> None:
    bomb = gzip.compress(b"x" * 20_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(_TooLarge):
            _decompressed(bomb, "gzip", 1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_decompression_stops_at_the_limit() -> None:
    bomb = gzip.compress(b"x" * 10_000_000)
    with pytest.raises(_TooLarge):
        _decompressed(bomb, "gzip", 1_000_000)
    assert _decompressed(bomb, "gzip", 10_000_000) == b"x" * 10_000_000


def test_an_encoding_the_client_did_not_ask_for_is_a_server_error() -> None:
    async def streamed() -> AsyncIterator[bytes]:  # streamed: read as a socket's answer is
        yield b"\x1b\x00\x00"

    def respond(request: httpx.Request) -> httpx.Response:
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        headers = {"Content-Type": "application/json", "Content-Encoding": "br"}
        return httpx.Response(200, headers=headers, content=streamed())

    error = raised("health_check", respond)
    assert isinstance(error, ServerError)
    assert "could not be decoded (br): unsupported Content-Encoding 'br'" in error.message
    assert error.status_code == 200


MALFORMED = "answered HTTP 200 with a malformed body: "


@pytest.mark.parametrize(
    ("method", "data", "wrong"),
    [
        ("health_check", [], "data is a list, not an object"),
        (
            "list_prompts",
            {"prompts": [{"id": "hello-world"}, {"id": 7}]},
            "data.prompts[1].id is an integer, not a string",
        ),
        (
            "get_prompt",
            {
                "id": "hello-world",
                "name": "n",
                "template": "t",
                "variables": ["a", 1],
                "version": 1,
            },
            "data.variables[1] is an integer, not a string",
        ),
        (
            "render_prompt",
            {"prompt_id": "other", "content": "Hello, Ada!"},
            "data.prompt_id is 'other', not the requested 'hello-world'",
        ),
        (
            "render_prompt",
            {"prompt_id": "x" * 140, "content": "Hello, Ada!"},
            f"data.prompt_id is '{'x' * 130}... (10 more characters)', not the requested "
            "'hello-world'",
        ),
    ],
    ids=["data", "a listed id", "a variable name", "another id", "a long id, cut"],
)
def test_the_message_names_the_field_at_fault_by_its_path(
    method: str, data: Any, wrong: str
) -> None:
    error = raised(method, answer({"success": True, "data": data}))
    assert error.message == f"{METHODS[method][0]} {MALFORMED}{wrong}"


def test_an_event_hook_without_a_name_is_named_by_its_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Hook:
        def __call__(self, request: httpx.Request) -> None:
            raise ValueError("broken")

        def __repr__(self) -> str:
            return "<the audit hook>"

    ok = answer({"success": True, "data": {"status": "healthy", "version": "1"}})
    with caplog.at_level(logging.WARNING, "promptops"):
        call("health_check", ok, event_hooks={"request": [Hook()]})
    assert [r.getMessage() for r in caplog.records] == [
        "event hook <the audit hook> failed, ignored: ValueError: broken"
    ]


def test_a_broken_log_handler_does_not_fail_the_call() -> None:
    """The client logs each retry; a handler that raises must not turn a retried call that
    succeeded into a failure."""

    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise OSError(28, "No space left on device")

    answers = iter(
        [
            answer({}, status=503),
            answer({"success": True, "data": {"status": "ok", "version": "1"}}),
        ]
    )
    logger = logging.getLogger("promptops")
    handler, level = Broken(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        health, sent = call("health_check", lambda request: next(answers)(request))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert health.status == "ok" and len(sent) == 2


def test_a_timed_out_attempt_and_the_deadline_say_which_call() -> None:
    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    error = raised("get_prompt", timing_out, max_retries=0)
    assert (type(error), error.message) == (
        RequestTimeoutError,
        "GET /v1/client/prompts/hello-world: timed out after 30 s, waiting for the answer",
    )
    error = raised("get_prompt", timing_out, max_retries=1, timeout=10)
    assert error.message == (
        "GET /v1/client/prompts/hello-world: attempt 2 of 2 timed out after 5 s, waiting for "
        "the answer"
    )


def test_a_call_retried_up_to_its_deadline_exactly_gives_up_there() -> None:
    """The wait that would end at the deadline is not started: nothing could be sent in it."""
    clock = FakeClock()
    limited = answer(
        {"success": False, "error": {"code": "RATE_LIMIT_ERROR", "message": "m"}},
        429,
        {"Retry-After": "5"},
    )
    with pytest.raises(RateLimitError):
        call("health_check", limited, clock=clock, timeout=5)
    assert clock.sleeps == []


def test_a_retry_after_equal_to_the_cap_is_waited_out() -> None:
    clock = FakeClock()
    answers = iter(
        [
            answer(
                {"success": False, "error": {"code": "RATE_LIMIT_ERROR", "message": "m"}},
                429,
                {"Retry-After": "7"},
            ),
            answer({"success": True, "data": {"status": "ok", "version": "1"}}),
        ]
    )
    health, _ = call("health_check", lambda r: next(answers)(r), clock=clock, max_retry_after=7)
    assert health.status == "ok" and len(clock.sleeps) == 1
    assert 7.0 <= clock.sleeps[0] <= 7.0 * (1 + JITTER)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "streamed"])
def test_an_answer_of_exactly_the_limit_is_read(declared: bool) -> None:
    body = json.dumps({"success": True, "data": {"status": "ok", "version": "1"}}).encode()

    def respond(request: httpx.Request) -> httpx.Response:
        content = body if declared else _streamed(body)
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    health, _ = call("health_check", respond, max_response_bytes=len(body))
    assert health.status == "ok"


async def _streamed(body: bytes) -> AsyncIterator[bytes]:  # no Content-Length: read to find out
    yield body


@pytest.mark.parametrize(
    ("body", "headers", "limit", "size"),
    [
        (b"{}", {"Content-Length": "9" * 40}, 10, f"{'9' * 30}... (10 more characters) bytes"),
        (b"{" + b" " * 20 + b"}", {}, 10, "more than 10 bytes"),
        (
            gzip.compress(b'{"success": true, "data": {"pad": "' + b"x" * 500 + b'"}}', mtime=0),
            {"Content-Encoding": "gzip"},
            100,
            "more than 100 bytes once decompressed",
        ),
    ],
    ids=["declared", "read", "decompressed"],
)
def test_an_answer_over_the_limit_says_how_it_was_found_too_large(
    body: bytes, headers: dict[str, str], limit: int, size: str
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        content = _streamed(body) if "Content-Length" not in headers else body
        response = httpx.Response(
            200, content=content, headers={"Content-Type": "application/json"}
        )
        response.headers.update(headers)
        return response

    error = raised("health_check", respond, max_response_bytes=limit)
    assert type(error) is ServerError and error.status_code == 200
    assert error.message == (
        f"GET /v1/client/health answered HTTP 200 with a body of {size}, over the {limit} byte "
        "limit (max_response_bytes)"
    )


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/problem+json", "Application/JSON"],
)
def test_json_by_any_of_its_names_is_read(content_type: str) -> None:
    body = {"success": True, "data": {"status": "ok", "version": "1"}}
    health, _ = call("health_check", answer(body, headers={"Content-Type": content_type}))
    assert health.status == "ok"


def test_a_malformed_success_body_keeps_its_status() -> None:
    error = raised("health_check", answer({"success": True}))
    assert error.status_code == 200


@pytest.mark.parametrize("key", ['"po_live_abc"', "'po_live_abc'", '""'])
def test_a_quoted_key_is_refused_saying_so(key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(key)
    assert str(caught.value) == (
        "The API key (api_key) has quotes around it (copied from a .env file?): remove them "
        "(nothing was sent)"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:s3cret@api.example.com/?token=abc", "https://***@api.example.com/?***"),
        ("https://alice@corp:s3cret@api.example.com/", "https://***@api.example.com/"),
        ("https://api.example.com/#token=abc", "https://api.example.com/#***"),
        ("https://alice:s3cret@[::1/path?token=abc?x=1", "https://***@[::1/path"),
    ],
    ids=["user and query", "an @ in the user", "a fragment", "not even a URL"],
)
def test_a_url_is_shown_without_credentials_query_or_fragment(url: str, shown: str) -> None:
    assert redact_url(url) == shown
