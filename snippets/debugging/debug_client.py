"""A debugging wrapper around `PromptOpsClient`: logs each call, its duration
and outcome. Run as a script, it logs two calls: a render of the first prompt
the key lists, with its variables, and a misspelled prompt id.

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.debugging.debug_client
    python -m snippets.debugging.debug_client --mock
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Mapping
from typing import Any

from snippets.cli import run_script
from snippets.client import (
    PromptNotFoundError,
    PromptOpsClient,
    PromptOpsError,
    PromptVariables,
)
from snippets.client.clock import Clock
from snippets.debugging.debug_logging import setup_debug_logging


class DebugPromptOpsClient:
    """Wraps a client; `await debug.call("get_prompt", "hello-world")` logs and
    returns.

    Variable values can hold personal data, so only their names are logged.
    """

    def __init__(
        self,
        client: PromptOpsClient,
        logger: logging.Logger | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.logger = logger or logging.getLogger("promptops.debug")
        self.clock = (
            clock or client.clock
        )  # durations on the client's own clock

    async def call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        shown = [_show(a) for a in args] + [
            f"{k}={_show(v)}" for k, v in kwargs.items()
        ]
        self.logger.info("-> %s(%s)", operation, ", ".join(shown))
        start = self.clock.monotonic()
        try:
            result = await getattr(self.client, operation)(*args, **kwargs)
        except PromptOpsError as exc:
            elapsed = (self.clock.monotonic() - start) * 1000
            self.logger.error(
                "<- %s failed after %.0f ms: %s", operation, elapsed, exc
            )
            raise
        elapsed = (self.clock.monotonic() - start) * 1000
        self.logger.info("<- %s ok in %.0f ms", operation, elapsed)
        return result


def _show(value: Any) -> str:
    """Variables (any mapping) by count only: their values can be personal
    data."""
    return (
        f"<{len(value)} variables>"
        if isinstance(value, Mapping)
        else repr(value)
    )


async def demo() -> int:
    """Log two calls through the wrapper: a render of the first prompt the key
    lists, with its variables, and a misspelled prompt id. Print the log, also
    when a call fails for another reason (then the error follows it)."""
    log = io.StringIO()
    async with PromptOpsClient() as client:
        ids = await client.list_prompts()  # before the logging: not shown
        first = await client.get_prompt(ids[0]) if ids else None
        setup_debug_logging("INFO", stream=log)
        try:
            debug = DebugPromptOpsClient(client)
            if first is not None:
                names = dict.fromkeys(first.variables, "Ada")
                await debug.call(
                    "render_prompt", first.id, PromptVariables(names)
                )
            with contextlib.suppress(
                PromptNotFoundError
            ):  # logged by the wrapper, then raised
                await debug.call("get_prompt", "hello-wrold")
        finally:
            for line in log.getvalue().splitlines():
                print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_script("debug-client", demo, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
