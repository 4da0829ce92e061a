"""Render many prompts at once without flooding the API: at most `concurrency`
in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from snippets.client import PromptOpsClient, PromptOpsError, RenderedPrompt


async def render_many(
    client: PromptOpsClient,
    requests: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    concurrency: int = 5,
) -> list[RenderedPrompt | PromptOpsError]:
    """Render every (prompt_id, variables) pair, `concurrency` at a time,
    with the results in order.

    A failed item gives its exception in the list instead of cancelling
    the others."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    slots = asyncio.Semaphore(concurrency)

    async def render(
        prompt_id: str, variables: Mapping[str, Any]
    ) -> RenderedPrompt | PromptOpsError:
        async with slots:
            try:
                return await client.render_prompt(prompt_id, variables)
            except PromptOpsError as exc:
                return exc

    return await asyncio.gather(*(render(p, v) for p, v in requests))
