"""Bounded-concurrency rendering (snippets/performance_issues/render_many.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, cast

import pytest

from snippets.client import PromptNotFoundError, PromptOpsClient, RenderedPrompt
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.performance_issues.render_many import render_many


class SlowRenderer:
    """Stands in for the client where the test needs to see how many calls overlap."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.in_flight = 0
        self.most_in_flight = 0

    async def render_prompt(self, prompt_id: str, variables: Mapping[str, Any]) -> RenderedPrompt:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await self.clock.sleep(0.1)
        self.in_flight -= 1
        return RenderedPrompt(prompt_id, str(variables["n"]))


@pytest.mark.parametrize("concurrency", [1, 3, 10])
def test_never_more_than_concurrency_in_flight(clock: FakeClock, concurrency: int) -> None:
    renderer = SlowRenderer(clock)
    requests = [("hello-world", {"n": n}) for n in range(20)]
    results = asyncio.run(
        render_many(cast(PromptOpsClient, renderer), requests, concurrency=concurrency)
    )
    assert renderer.most_in_flight == min(concurrency, 20)
    assert [r.content for r in results if isinstance(r, RenderedPrompt)] == [
        str(n) for n in range(20)
    ]


def test_against_the_mock_failures_stay_in_their_slot(mock_api: MockPromptOpsAPI) -> None:
    async def main() -> list[Any]:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            return await render_many(
                client,
                [
                    ("hello-world", {"name": "Ada"}),
                    ("missing", {}),
                    ("hello-world", {"name": "Bo"}),
                ],
            )

    first, missing, last = asyncio.run(main())
    assert first == RenderedPrompt("hello-world", "Hello, Ada!")
    assert isinstance(missing, PromptNotFoundError)
    assert last == RenderedPrompt("hello-world", "Hello, Bo!")


def test_concurrency_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(render_many(cast(PromptOpsClient, None), [], concurrency=0))


def test_by_default_five_at_a_time(clock: FakeClock) -> None:
    renderer = SlowRenderer(clock)
    requests = [("hello-world", {"n": n}) for n in range(20)]
    asyncio.run(render_many(cast(PromptOpsClient, renderer), requests))
    assert renderer.most_in_flight == 5


def test_a_batch_over_50_goes_in_calls_of_50_and_keeps_every_result_in_order(
    mock_api: MockPromptOpsAPI,
) -> None:
    async def main() -> list[Any]:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            names = [f"n{n}" for n in range(120)]
            return await client.batch_render([("hello-world", {"name": n}) for n in names])

    results = asyncio.run(main())
    assert [r.content for r in results if isinstance(r, RenderedPrompt)] == [
        f"Hello, n{n}!" for n in range(120)
    ]
    sizes = [len(json.loads(r.content)["requests"]) for r in mock_api.requests]
    assert sizes == [50, 50, 20]
