"""Check which API keys the API accepts: the verification step of a key
rotation."""

from __future__ import annotations

from collections.abc import Mapping

from snippets.client import PromptOpsClient, PromptOpsError
from snippets.client.clock import SYSTEM_CLOCK, Clock


async def check_keys(
    keys: Mapping[str, str], *, clock: Clock = SYSTEM_CLOCK
) -> dict[str, str]:
    """For each named key, "accepted" or the error code. Prints names, never
    keys."""
    results = {}
    for name, key in keys.items():
        try:
            async with PromptOpsClient(
                api_key=key, max_retries=0, clock=clock
            ) as client:
                await client.health_check()
            results[name] = "accepted"
        except PromptOpsError as exc:
            results[name] = exc.code
        print(f"{name}: {results[name]}")
    return results
