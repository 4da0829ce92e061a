"""Per-attempt timeouts and the pool over real sockets: an attempt that hangs leaves time for a
retry, and a call that waits for a free connection says so (real time, about a second each)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from snippets.client import PromptOpsClient, RequestTimeoutError

from .servers import Exchange, Handler, hostile_servers, silent

pytestmark = pytest.mark.hostile

KEY = "po_live_attempts_5c1f9e2d"
MARGIN = 0.5  # seconds a deadline may be overrun by on a busy 2-core machine


def hangs_once() -> Handler:
    """A server that never answers its first request, and answers the ones after it."""
    hung = False

    async def handler(x: Exchange) -> None:
        nonlocal hung
        if not hung:
            hung = True
            await x.wait_for_hang_up()
            return
        await x.answer(200, {"success": True, "data": {"status": "healthy", "version": "1"}})

    return handler


def test_an_attempt_that_hangs_is_retried_within_the_deadline() -> None:
    """timeout=3, two retries: each attempt has 1 s. Against a server that never answers its
    first request, the call succeeds on the second connection, at about 1.5 s."""
    with hostile_servers({"hangs once": hangs_once()}) as running:

        async def main() -> str:
            url = running.urls["hangs once"]
            async with PromptOpsClient(KEY, base_url=url, timeout=3, max_retries=2) as client:
                return (await client.health_check()).status

        started = time.monotonic()
        assert asyncio.run(main()) == "healthy"
        elapsed = time.monotonic() - started
    assert len(running.seen["hangs once"].requests) == 2
    assert 1.0 <= elapsed <= 1.5 + MARGIN


def test_a_server_that_never_answers_gets_every_attempt_then_the_deadline_says_so() -> None:
    """timeout=1.2, one retry: 0.6 s each; after the first times out and the backoff (at most
    0.5 s), the second has what is left, and the deadline ends it."""
    with hostile_servers({"silent": silent}) as running:

        async def main() -> None:
            url = running.urls["silent"]
            async with PromptOpsClient(KEY, base_url=url, timeout=1.2, max_retries=1) as client:
                await client.health_check()

        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as caught:
            asyncio.run(main())
        elapsed = time.monotonic() - started
    assert len(running.seen["silent"].requests) == 2
    assert elapsed <= 1.2 + MARGIN
    assert caught.value.message == (
        "GET /v1/client/health: no answer within the 1.2 s deadline (2 attempts; the last "
        "timed out waiting for the answer)"
    )


async def answers_in_a_second(x: Exchange) -> None:
    await asyncio.sleep(1.0)  # the server's thread: the client under test waits for real
    await x.answer(200, {"success": True, "data": {"prompts": []}})


def test_calls_that_waited_for_a_free_connection_say_the_pool_was_the_wait() -> None:
    """One connection, three calls at once, a server that takes a second: the first is
    answered; the others spend their deadline mostly waiting for the connection, and their
    timeouts say so (a dead server would not be the cause to look for)."""
    with hostile_servers({"slow": answers_in_a_second}) as running:
        url = running.urls["slow"]

        async def main() -> list[object]:
            limits = httpx.Limits(max_connections=1)
            async with PromptOpsClient(
                KEY, base_url=url, timeout=1.5, max_retries=0, limits=limits
            ) as client:
                calls = [client.list_prompts() for _ in range(3)]
                return await asyncio.gather(*calls, return_exceptions=True)

        first, *others = asyncio.run(main())
    assert first == []
    for error in others:
        assert isinstance(error, RequestTimeoutError), error
        assert error.message.startswith("GET /v1/client/prompts: no answer within the 1.5 s ")
        assert "waiting for a free connection (all 1 of the client's connections were in use)" in (
            error.message
        )
