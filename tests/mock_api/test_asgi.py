"""The mock API over real sockets (uvicorn on 127.0.0.1): same answers as the respx mount."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from snippets.client import AuthenticationError, PromptOpsClient, PromptVariables
from snippets.client.clock import system_clock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp

from ..local_server import serve


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, MockPromptOpsAPI]]:
    api = MockPromptOpsAPI(clock=system_clock)  # a real server runs on real time
    with serve(MockASGIApp(api)) as base_url:
        yield base_url, api


def test_signed_requests_over_a_real_socket(server: tuple[str, MockPromptOpsAPI]) -> None:
    base_url, api = server

    async def main() -> tuple[str, str]:
        async with PromptOpsClient(api.api_key, base_url=base_url, clock=system_clock) as client:
            health = await client.health_check()
            rendered = await client.render_prompt("hello-world", PromptVariables(name="Ada"))
            return health.status, rendered.content

    assert asyncio.run(main()) == ("healthy", "Hello, Ada!")
    assert api.requests[-1].url.host == "127.0.0.1"


def test_wrong_key_over_a_real_socket(server: tuple[str, MockPromptOpsAPI]) -> None:
    base_url, _ = server

    async def main() -> None:
        async with PromptOpsClient("po_wrong", base_url=base_url, clock=system_clock) as client:
            await client.health_check()

    with pytest.raises(AuthenticationError):
        asyncio.run(main())
