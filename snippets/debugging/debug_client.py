"""A debugging wrapper around `PromptOpsClient`: logs each call, its duration and outcome."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from snippets.client import PromptOpsClient, PromptOpsError
from snippets.client.clock import Clock, default_clock


# --8<-- [start:debug_client]
class DebugPromptOpsClient:
    """Wraps a client; `await debug.call("get_prompt", "hello-world")` logs and returns.

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
        self.clock = clock or default_clock()

    async def call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        shown = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
        self.logger.info("-> %s(%s)", operation, ", ".join(shown))
        start = self.clock.monotonic()
        try:
            result = await getattr(self.client, operation)(*args, **kwargs)
        except PromptOpsError as exc:
            elapsed = (self.clock.monotonic() - start) * 1000
            self.logger.error("<- %s failed after %.0f ms: %s", operation, elapsed, exc)
            raise
        elapsed = (self.clock.monotonic() - start) * 1000
        self.logger.info("<- %s ok in %.0f ms", operation, elapsed)
        return result


def _show(value: Any) -> str:
    """Variables (any mapping) by count only: their values can be personal data."""
    return f"<{len(value)} variables>" if isinstance(value, Mapping) else repr(value)


# --8<-- [end:debug_client]
