"""Requests no client should send (a fuzzer's, an attacker's: the served mock's key is public)
get the API's JSON error envelope with a 4xx status, never a crash: in memory here, over real
sockets in tests/hostile/test_served_mock.py."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import httpx
import pytest

from snippets.client.clock import FakeClock
from snippets.client.signing import sign
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.server import MAX_BODY_BYTES, MAX_JSON_DEPTH

from .test_mock_api import BASE, error_of, send, signed

RENDER = "/v1/client/prompts/hello-world/render"
WINDOW = "Request timestamp is more than 300 s from server time; check the client's clock"
MISSING = "Missing X-PromptOps-Timestamp or X-PromptOps-Signature header"
TOO_DEEP = f"Request body is nested more than {MAX_JSON_DEPTH} levels deep"
LONE_SURROGATE = "Request body has a lone surrogate (\\ud800 to \\udfff): not Unicode text"


def raw_signed(api: MockPromptOpsAPI, method: str, path: str, content: bytes) -> httpx.Request:
    """A request signed correctly over `content`, bytes as they are (not JSON of a value)."""
    timestamp = int(api.clock.time())
    return httpx.Request(
        method,
        BASE + path,
        content=content,
        headers={
            "Authorization": f"Bearer {api.api_key}",
            "X-PromptOps-Timestamp": str(timestamp),
            "X-PromptOps-Signature": sign(api.api_key, timestamp, method, path, content),
        },
    )


def with_header(request: httpx.Request, name: str, value: bytes) -> httpx.Request:
    """`request` with header `name` set to `value`, bytes as sent (httpx takes only ASCII text)."""
    headers = [(k, v) for k, v in request.headers.raw if k.lower() != name.lower().encode()]
    return httpx.Request(
        request.method,
        request.url,
        headers=[*headers, (name.encode(), value)],
        content=request.content,
    )


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    status, code = error_of(response)
    return status, code, response.json()["error"]["message"]


# -- the timestamp and the signature ----------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    ["9" * 13, "9" * 400, "9" * 5000],
    ids=["13 digits", "400 digits (float() overflows)", "5,000 digits (int() refuses)"],
)
def test_a_timestamp_of_too_many_digits_is_out_of_the_window(
    mock_api: MockPromptOpsAPI, timestamp: str
) -> None:
    request = signed(mock_api, "GET", "/v1/client/health")
    request.headers["X-PromptOps-Timestamp"] = timestamp
    assert refusal(send(request)) == (401, "AUTHENTICATION_ERROR", WINDOW)


def test_a_timestamp_padded_with_thousands_of_zeros_is_still_its_number(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """Leading zeros do not count towards the digits compared as text."""
    request = signed(mock_api, "GET", "/v1/client/health")
    request.headers["X-PromptOps-Timestamp"] = "0" * 5000 + str(int(clock.time()))
    assert send(request).status_code == 200


@pytest.mark.parametrize(
    "timestamp",
    ["²", *("".join(chr(zero + int(d)) for d in "1767225600") for zero in (0x660, 0xFF10))],
    ids=["superscript two (isdigit, not int)", "Arabic-Indic digits", "fullwidth digits"],
)
def test_digits_that_are_not_ascii_are_no_timestamp(
    mock_api: MockPromptOpsAPI, timestamp: str
) -> None:
    request = signed(mock_api, "GET", "/v1/client/health")
    request = with_header(request, "X-PromptOps-Timestamp", timestamp.encode())  # UTF-8 bytes
    assert refusal(send(request)) == (401, "AUTHENTICATION_ERROR", MISSING)


@pytest.mark.parametrize("signature", [b"v1=\xe9", "v1=é".encode()], ids=["latin-1", "UTF-8"])
def test_a_signature_that_is_not_ascii_is_a_wrong_signature(
    mock_api: MockPromptOpsAPI, signature: bytes
) -> None:
    """hmac.compare_digest raises TypeError for text that is not ASCII."""
    request = with_header(
        signed(mock_api, "GET", "/v1/client/health"), "X-PromptOps-Signature", signature
    )
    assert refusal(send(request)) == (
        401,
        "AUTHENTICATION_ERROR",
        "Invalid API key or signature",
    )


# -- the body ---------------------------------------------------------------------------------


def nested(depth: int, leaf: Any = "x") -> Any:
    """`leaf` inside `depth` lists."""
    for _ in range(depth):
        leaf = [leaf]
    return leaf


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"variables": {"name": nested(MAX_JSON_DEPTH - 1)}}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"{}" + b"}" * 100_000,
    ],
    ids=["one level too deep", "100,000 lists deep", "100,000 objects deep"],
)
def test_a_body_nested_too_deep_is_422(mock_api: MockPromptOpsAPI, content: bytes) -> None:
    response = send(raw_signed(mock_api, "POST", RENDER, content))
    assert refusal(response) == (422, "VALIDATION_ERROR", TOO_DEEP)


def test_a_body_nested_to_the_limit_is_rendered(mock_api: MockPromptOpsAPI) -> None:
    """The body is 1 level, `variables` 2: the value may nest MAX_JSON_DEPTH - 2 lists."""
    value = nested(MAX_JSON_DEPTH - 2)
    response = send(signed(mock_api, "POST", RENDER, {"variables": {"name": value}}))
    assert response.json()["data"]["content"] == f"Hello, {json.dumps(value)}!"


@pytest.mark.parametrize(
    ("path", "content"),
    [
        (RENDER, b'{"variables": {"name": "\\ud800"}}'),
        (RENDER, b'{"variables": {"name": "Ada", "\\udfff": "x"}}'),
        ("/v1/client/prompts/batch-render", b'{"requests": [{"prompt_id": "\\ud800"}]}'),
        (RENDER, b'{"variables": {"name": "Ada"}, "note": ["\\ude00\\ud83d"]}'),
    ],
    ids=["a variable's value", "a variable's name", "a batch prompt_id", "a reversed pair"],
)
def test_a_lone_surrogate_anywhere_in_the_body_is_422(
    mock_api: MockPromptOpsAPI, path: str, content: bytes
) -> None:
    """JSON's escapes can spell one; no UTF-8 answer can carry it back."""
    response = send(raw_signed(mock_api, "POST", path, content))
    assert refusal(response) == (422, "VALIDATION_ERROR", LONE_SURROGATE)


def test_a_surrogate_pair_is_one_character_and_is_rendered(mock_api: MockPromptOpsAPI) -> None:
    response = send(
        raw_signed(mock_api, "POST", RENDER, b'{"variables": {"name": "\\ud83d\\ude00"}}')
    )
    assert response.json()["data"]["content"] == "Hello, \N{GRINNING FACE}!"


def padded(size: int) -> bytes:
    """A render body for hello-world of exactly `size` bytes (spaces before the closing brace)."""
    body = b'{"variables": {"name": "Ada"}}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_a_body_over_one_mib_is_413_before_routing_and_authentication(
    mock_api: MockPromptOpsAPI,
) -> None:
    """Even unsigned, to a path the API does not have: the edge refuses it first."""
    request = httpx.Request("POST", f"{BASE}/nowhere", content=padded(MAX_BODY_BYTES + 1))
    assert refusal(send(request)) == (
        413,
        "VALIDATION_ERROR",
        f"Request body is larger than {MAX_BODY_BYTES} bytes",
    )


def test_a_body_of_exactly_one_mib_is_read(mock_api: MockPromptOpsAPI) -> None:
    response = send(raw_signed(mock_api, "POST", RENDER, padded(MAX_BODY_BYTES)))
    assert response.json()["data"]["content"] == "Hello, Ada!"


# -- the history ------------------------------------------------------------------------------


def health(api: MockPromptOpsAPI) -> httpx.Response:
    return api.handle(httpx.Request("GET", f"{BASE}/v1/health"))


def test_a_bounded_history_keeps_the_latest_requests_and_numbers_them_all() -> None:
    api = MockPromptOpsAPI(history=3)
    answers = [health(api) for _ in range(5)]
    assert api.requests == [request for request, _ in api.exchanges[-3:]]
    assert [response for _, response in api.exchanges] == answers[-3:]
    assert answers[-1].headers["X-Request-Id"] == "req_000005"


def test_a_history_of_zero_keeps_nothing() -> None:
    api = MockPromptOpsAPI(history=0)
    health(api)
    assert api.requests == [] and api.exchanges == []


def test_the_default_history_keeps_every_request() -> None:
    """What tests read: `len(api.requests)` is every request the mock answered."""
    api = MockPromptOpsAPI()
    for _ in range(200):
        health(api)
    assert len(api.requests) == len(api.exchanges) == 200


def test_request_ids_start_again_after_reset() -> None:
    api = MockPromptOpsAPI(history=1)
    health(api)
    health(api)
    api.reset()
    assert health(api).headers["X-Request-Id"] == "req_000001"


def test_memory_stays_flat_with_a_bounded_history() -> None:
    """Each request and answer kept costs about 3 KB: 500 more kept would be about 1.5 MB."""
    api = MockPromptOpsAPI(history=10)
    tracemalloc.start()
    try:
        for _ in range(50):  # the history full of entries tracemalloc saw made
            health(api)
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(500):
            health(api)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000, f"{grown} bytes more after 500 requests"
