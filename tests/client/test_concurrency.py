"""Concurrent use of one client: shared fetches, a cache that stays right as entries expire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from snippets.client import PromptNotFoundError, PromptOpsClient
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI


def test_concurrent_get_prompt_of_one_id_makes_one_request(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.simulate_latency(0.1)

    async def main() -> tuple[list[Any], dict[str, Any]]:
        async with PromptOpsClient(clock=clock) as client:
            prompts = await asyncio.gather(*(client.get_prompt("hello-world") for _ in range(50)))
            return prompts, client.get_cache_stats()

    prompts, stats = asyncio.run(main())
    assert len(mock_api.requests) == 1
    assert {p.id for p in prompts} == {"hello-world"}
    assert stats == {"hits": 49, "misses": 1, "hit_rate": 0.98, "size": 1}


def test_concurrent_get_prompt_of_different_ids_are_not_merged(mock_api: MockPromptOpsAPI) -> None:
    ids = ["hello-world", "welcome-message", "customer-service"] * 10

    async def main() -> list[str]:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            return [p.id for p in await asyncio.gather(*(client.get_prompt(i) for i in ids))]

    assert asyncio.run(main()) == ids
    assert len(mock_api.requests) == 3


def test_a_shared_failure_reaches_every_waiter_and_is_not_cached(
    mock_api: MockPromptOpsAPI,
) -> None:
    async def main() -> list[Any]:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            results = await asyncio.gather(
                *(client.get_prompt("missing") for _ in range(5)), return_exceptions=True
            )
            mock_api.prompts["missing"] = {"name": "Now here", "template": "x", "version": 1}
            results.append(await client.get_prompt("missing"))
            return results

    *failures, found = asyncio.run(main())
    assert all(isinstance(f, PromptNotFoundError) for f in failures)
    assert found.name == "Now here"
    assert len(mock_api.requests) == 2


def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.rate_limit(times=1, retry_after=1)  # the fetch sleeps once: room to cancel

    async def main() -> str:
        async with PromptOpsClient(clock=clock) as client:
            first = asyncio.ensure_future(client.get_prompt("hello-world"))
            second = asyncio.ensure_future(client.get_prompt("hello-world"))
            await asyncio.sleep(0)
            first.cancel()
            return (await second).id

    assert asyncio.run(main()) == "hello-world"
    assert len(mock_api.requests) == 2  # the 429, then the retry: one fetch


@pytest.mark.parametrize("rounds", [3])
def test_cache_stays_right_across_ttl_expiry_under_concurrency(
    mock_api: MockPromptOpsAPI, clock: FakeClock, rounds: int
) -> None:
    async def main() -> None:
        async with PromptOpsClient(cache_ttl=60, clock=clock) as client:
            for version in range(1, rounds + 1):
                mock_api.prompts["hello-world"]["version"] = version
                prompts = await asyncio.gather(
                    *(client.get_prompt("hello-world") for _ in range(20))
                )
                assert {p.version for p in prompts} == {version}
                clock.advance(30)  # still cached: the new version is not seen yet
                again = await asyncio.gather(*(client.get_prompt("hello-world") for _ in range(20)))
                assert {p.version for p in again} == {version}
                clock.advance(31)  # expired

    asyncio.run(main())
    assert len(mock_api.requests) == rounds
