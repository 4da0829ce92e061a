"""The client under load and misuse, on 127.0.0.1 in real time: 2,000 calls at once, calls
cancelled mid-flight, a server that sends 9 MB of the key's fragments (seconds each)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import tracemalloc

import pytest

from snippets.client import AuthenticationError, PromptOpsClient, PromptOpsError
from snippets.client._client import _LOG_SCRUBBER

from .servers import Exchange, hostile_servers, silent

pytestmark = pytest.mark.hostile

KEY = "po_live_load_test_key_3f8e1c"
CALLS = 2_000
DEADLINE = 30.0  # the client's default


def descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def answers_in_half_a_second(x: Exchange) -> None:
    await asyncio.sleep(0.5)  # the server's thread: the calls under test wait for real
    await x.answer(200, {"success": True, "data": {"status": "healthy", "version": "1"}})


def test_two_thousand_calls_at_once_end_in_time_and_leave_no_descriptor_behind() -> None:
    """With the default settings (100 connections), against a server that takes 0.5 s: every
    call ends within its deadline and 1 s, none with a descriptor error, and the descriptors
    are back where they were once the client is closed. (Waiting in httpx's own pool, 2,000
    calls once took over a minute each and all failed.)"""
    with hostile_servers({"slow": answers_in_half_a_second}) as running:
        before = descriptors()

        async def one(client: PromptOpsClient) -> tuple[str, float]:
            started = time.monotonic()
            try:
                await client.health_check()
                outcome = "ok"
            except PromptOpsError as exc:
                outcome = str(exc)
            return outcome, time.monotonic() - started

        async def main() -> list[tuple[str, float]]:
            async with PromptOpsClient(KEY, base_url=running.urls["slow"]) as client:
                return await asyncio.gather(*(one(client) for _ in range(CALLS)))

        results = asyncio.run(main())
        after = descriptors()
    failures = [outcome for outcome, _ in results if outcome != "ok"]
    assert not [f for f in failures if "Too many open files" in f]
    assert max(seconds for _, seconds in results) <= DEADLINE + 1
    assert failures == []
    assert after <= before  # none left open (one open before may have been closed meanwhile)


def test_a_cancelled_fetch_stops_its_request_and_frees_its_connection() -> None:
    """150 fetches cancelled after 50 ms each, against a server that never answers: nothing is
    left running or connected a moment later, and nothing is logged after `aclose()`."""
    with hostile_servers({"silent": silent}) as running:

        async def main() -> tuple[int, int]:
            base = descriptors()
            client = PromptOpsClient(KEY, base_url=running.urls["silent"])

            async def fetch(n: int) -> None:
                try:
                    async with asyncio.timeout(0.05):
                        await client.get_prompt(f"p{n}")
                except TimeoutError:
                    pass

            await asyncio.gather(*(fetch(n) for n in range(150)))
            # A moment for the cancelled fetches to unwind: closing a connection takes a few
            # turns of the loop, more of them on a busy machine. A fetch still running (never
            # cancelled) would wait on the silent server past this second and be counted.
            unwinding = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if unwinding:
                await asyncio.wait(unwinding, timeout=1.0)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            # A closed transport lets go of its socket a turn or two of the loop later: poll
            # for that, a second at most (a connection left open would stay open past it).
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 1.0
            while descriptors() > base and loop.time() < give_up:  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.01)
            left = descriptors() - base
            await client.aclose()
            return len(tasks), left

        tasks, sockets = asyncio.run(main())
    assert (tasks, sockets) == (0, 0)


def test_a_fetch_shared_by_two_waiters_goes_on_while_one_of_them_waits() -> None:
    """Only the last waiter's cancellation stops a shared fetch."""

    async def answer_later(x: Exchange) -> None:
        await asyncio.sleep(0.3)
        prompt = {"id": "p", "name": "P", "template": "x", "variables": [], "version": 1}
        await x.answer(200, {"success": True, "data": prompt})

    with hostile_servers({"later": answer_later}) as running:

        async def main() -> str:
            async with PromptOpsClient(KEY, base_url=running.urls["later"]) as client:
                patient = asyncio.create_task(client.get_prompt("p"))
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await client.get_prompt("p")
                return (await patient).id

        assert asyncio.run(main()) == "p"
        assert len(running.seen["later"].requests) == 1


def test_a_server_s_huge_message_of_the_key_s_fragments_costs_little() -> None:
    """A 401 whose 9 MB message is the key's fragments repeated: the error is cut before it is
    scrubbed (it once took 10 s and 1 GB)."""
    fragments = [KEY[i : i + 10] for i in range(len(KEY) - 10)]
    message = " ".join(fragments * (9 * 2**20 // (11 * len(fragments))))
    body = json.dumps(
        {"success": False, "error": {"code": "AUTHENTICATION_ERROR", "message": message}}
    )

    async def echoing(x: Exchange) -> None:
        await x.answer(401, body.encode())

    with hostile_servers({"echoing": echoing}) as running:

        async def main() -> AuthenticationError:
            async with PromptOpsClient(KEY, base_url=running.urls["echoing"], timeout=5) as client:
                with pytest.raises(AuthenticationError) as caught:
                    await client.health_check()
                return caught.value

        tracemalloc.start()
        try:
            started = time.monotonic()
            error = asyncio.run(main())
            seconds = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert KEY[:10] not in error.message
    assert error.message.endswith("more characters)")
    assert seconds < 3
    assert peak < 100 * 2**20


def test_the_keys_of_closed_clients_are_not_kept() -> None:
    """A closed client's key is forgotten at once, even while something still holds the
    client (an unclosed one's goes when it is collected)."""
    clients = [PromptOpsClient(f"po_live_closed_{n:05d}_abcdef") for n in range(1_000)]
    before = len(_LOG_SCRUBBER.secrets)

    async def close_all() -> None:
        for client in clients:
            await client.aclose()

    asyncio.run(close_all())
    assert len(_LOG_SCRUBBER.secrets) == before - len(clients)
