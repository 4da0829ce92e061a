"""The mock API over real sockets (uvicorn on 127.0.0.1): same answers as the respx mount."""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from snippets.client import AuthenticationError, PromptOpsClient, PromptVariables
from snippets.client.clock import SYSTEM_CLOCK
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp

from ..local_server import serve


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, MockPromptOpsAPI]]:
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)  # a real server runs on real time
    with serve(MockASGIApp(api)) as base_url:
        yield base_url, api


def test_signed_requests_over_a_real_socket(server: tuple[str, MockPromptOpsAPI]) -> None:
    base_url, api = server

    async def main() -> tuple[str, str]:
        async with PromptOpsClient(api.api_key, base_url=base_url, clock=SYSTEM_CLOCK) as client:
            health = await client.health_check()
            rendered = await client.render_prompt("hello-world", PromptVariables(name="Ada"))
            return health.status, rendered.content

    assert asyncio.run(main()) == ("healthy", "Hello, Ada!")
    assert api.requests[-1].url.host == "127.0.0.1"


def test_wrong_key_over_a_real_socket(server: tuple[str, MockPromptOpsAPI]) -> None:
    base_url, _ = server

    async def main() -> None:
        async with PromptOpsClient("po_wrong", base_url=base_url, clock=SYSTEM_CLOCK) as client:
            await client.health_check()

    with pytest.raises(AuthenticationError):
        asyncio.run(main())


def raw_exchange(base_url: str, request: bytes) -> bytes:
    """Send raw bytes (no client library tidying them up) and read the whole answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_non_ascii_header_bytes_get_a_json_answer_not_a_500(
    server: tuple[str, MockPromptOpsAPI],
) -> None:
    base_url, _ = server
    for path in (b"/v1/health", b"/v1/client/health"):
        answer = raw_exchange(
            base_url,
            b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nX-Note: caf\xe9\r\n"
            b"Authorization: Bearer po_\xff\r\nConnection: close\r\n\r\n",
        )
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 401")), head
        assert json.loads(body)["success"] is (path == b"/v1/health")


def test_one_date_header_the_mock_s_own(server: tuple[str, MockPromptOpsAPI]) -> None:
    """uvicorn's Date would come first, so clock_skew would read no skew."""
    base_url, api = server
    with api.scenario():
        api.clock_skew(-3600)
        before = time.time()
        response = httpx.get(f"{base_url}/v1/health")
        after = time.time()
    dates = response.headers.get_list("Date")
    assert len(dates) == 1
    # Between the clock's readings around the request, whatever it took: a Date has whole
    # seconds, cut down.
    shown = email.utils.parsedate_to_datetime(dates[0]).timestamp()
    assert math.floor(before) - 3600 <= shown <= after - 3600


def test_an_undeclared_method_is_405_with_allow(server: tuple[str, MockPromptOpsAPI]) -> None:
    base_url, _ = server
    response = httpx.request("DELETE", f"{base_url}/v1/client/prompts/hello-world")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
