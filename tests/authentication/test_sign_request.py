"""Manual request signing (snippets/authentication/sign_request.py)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
import pytest

from snippets.authentication.sign_request import signed_headers
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.mock_api import MockPromptOpsAPI

# The worked example on docs/authentication.md, recomputed here from the contract alone.
EXAMPLE_KEY = "po_live_example_key"
EXAMPLE_BODY = b'{"variables": {"name": "Ada"}}'
EXAMPLE_PATH = "/v1/client/prompts/hello-world/render"


def test_worked_example_signature() -> None:
    message = (
        f"1767225600\nPOST\n{EXAMPLE_PATH}\n{hashlib.sha256(EXAMPLE_BODY).hexdigest()}"
    ).encode()
    expected = "v1=" + hmac.new(EXAMPLE_KEY.encode(), message, hashlib.sha256).hexdigest()
    headers = signed_headers(EXAMPLE_KEY, "POST", EXAMPLE_PATH, EXAMPLE_BODY, timestamp=1767225600)
    assert headers["X-PromptOps-Signature"] == expected
    assert headers["X-PromptOps-Timestamp"] == "1767225600"
    assert headers["Authorization"] == f"Bearer {EXAMPLE_KEY}"


def send(headers: dict[str, str], path: str, body: bytes) -> httpx.Response:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient(base_url="https://api.promptops.com") as http:
            return await http.post(path, content=body, headers=headers)

    return asyncio.run(main())


def test_headers_from_the_wall_clock_are_accepted() -> None:
    """Without `timestamp`, the snippet reads the wall clock: an API on real time accepts it."""
    body = json.dumps({"variables": {"name": "Ada"}}).encode()
    with MockPromptOpsAPI(clock=SYSTEM_CLOCK) as api:
        headers = signed_headers(api.api_key, "POST", EXAMPLE_PATH, body)
        response = send(headers, EXAMPLE_PATH, body)
    assert response.json()["data"]["content"] == "Hello, Ada!"


@pytest.mark.parametrize("age", [301, -301])
def test_stale_or_future_timestamps_are_rejected(
    mock_api: MockPromptOpsAPI, clock: FakeClock, age: int
) -> None:
    body = b'{"variables": {"name": "Ada"}}'
    headers = signed_headers(
        mock_api.api_key, "POST", EXAMPLE_PATH, body, timestamp=int(clock.time()) - age
    )
    assert send(headers, EXAMPLE_PATH, body).status_code == 401


def test_signing_different_bytes_than_sent_is_rejected(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    signed_body = b'{"variables": {"name": "Ada"}}'
    sent_body = b'{"variables":{"name":"Ada"}}'  # same JSON, different bytes
    headers = signed_headers(
        mock_api.api_key, "POST", EXAMPLE_PATH, signed_body, timestamp=int(clock.time())
    )
    assert send(headers, EXAMPLE_PATH, sent_body).status_code == 401


def test_a_get_signed_without_a_body_is_accepted(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A GET sends no body: `body` defaults to the empty bytes the server hashes."""
    path = "/v1/client/prompts"
    headers = signed_headers(mock_api.api_key, "GET", path, timestamp=int(clock.time()))

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(base_url="https://api.promptops.com") as http:
            return await http.get(path, headers=headers)

    assert asyncio.run(main()).json()["success"] is True
