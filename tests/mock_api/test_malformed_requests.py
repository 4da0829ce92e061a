"""Requests no client should send (a fuzzer's, an attacker's: the served mock's key is public)
get the API's JSON error envelope with a 4xx status, never a crash."""

from __future__ import annotations

import httpx
import pytest

from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI

from .test_mock_api import error_of, send, signed

WINDOW = "Request timestamp is more than 300 s from server time; check the client's clock"
MISSING = "Missing X-PromptOps-Timestamp or X-PromptOps-Signature header"


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
