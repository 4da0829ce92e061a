"""Check which API keys the API accepts: the check step of a key rotation."""

from __future__ import annotations

from collections.abc import Mapping

from snippets.client import PromptOpsClient, PromptOpsError


async def check_keys(keys: Mapping[str, str]) -> dict[str, str]:
    """Each named key: "accepted" or its error code. Prints names, not keys."""
    results = {}
    for name, key in keys.items():
        try:
            async with PromptOpsClient(api_key=key, max_retries=0) as client:
                await client.health_check()
            results[name] = "accepted"
        except PromptOpsError as exc:
            results[name] = exc.code
        print(f"{name}: {results[name]}")
    return results
