"""PromptOps health check: runs each check, prints PASS or FAIL, exits 1 if
any failed.

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.index.health_check
    python -m snippets.index.health_check --mock
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from snippets.cli import run_script
from snippets.client import PromptOpsClient, PromptVariables


async def run_health_checks(
    make_client: Callable[[], PromptOpsClient] = PromptOpsClient,
) -> int:
    """Run every check, even after one fails: 0 if all passed, else 1."""
    failures = 0

    async def check(name: str, step: Callable[[], Awaitable[str]]) -> None:
        nonlocal failures
        try:
            detail = await step()
        # report the failure and go on with the next check
        except Exception as exc:
            failures += 1
            print(f"FAIL  {name:<22} {exc}")
        else:
            print(f"PASS  {name:<22} {detail}")

    print("Running PromptOps health checks...")
    try:
        client = make_client()  # reads PROMPTOPS_API_KEY, checks the settings
    except Exception as exc:
        print(f"FAIL  {'Initialization':<22} {exc}")
        return 1

    async with client:

        async def initialization() -> str:
            await client.initialize()
            return f"client for {client.base_url}"

        async def connectivity() -> str:
            health = await client.health_check()
            return f"{health.status} (API {health.version})"

        async def prompt_retrieval() -> str:
            prompt = await client.get_prompt("hello-world")
            return f"{prompt.id} v{prompt.version}"

        async def caching() -> str:
            before = client.get_cache_stats()["hits"]
            # fetched above: must come from the cache
            await client.get_prompt("hello-world")
            stats = client.get_cache_stats()
            if stats["hits"] == before:
                raise RuntimeError(
                    "second fetch was not served from the cache"
                )
            return f"hit rate {stats['hit_rate']:.0%}"

        async def variable_substitution() -> str:
            rendered = await client.render_prompt(
                prompt_id="hello-world",
                variables=PromptVariables({"name": "health-check"}),
            )
            return repr(rendered.content)

        await check("Initialization", initialization)
        await check("API connectivity", connectivity)
        await check("Prompt retrieval", prompt_retrieval)
        await check("Caching", caching)
        await check("Variable substitution", variable_substitution)

    print(
        "All checks passed" if failures == 0 else f"{failures} check(s) failed"
    )
    return 0 if failures == 0 else 1


def main(argv: list[str] | None = None) -> int:
    return run_script("health-check", run_health_checks, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
