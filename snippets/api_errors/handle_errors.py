"""Handling PromptOps errors in application code: degrade on an outage, fail
loudly on a mistake that no retry can fix."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from snippets.client import (
    RETRYABLE_ERRORS,
    NetworkError,
    PromptOpsClient,
    PromptOpsError,
)

logger = logging.getLogger(__name__)


def is_outage(error: PromptOpsError) -> bool:
    """Whether `error` is an outage: a failure the client retries (network,
    timeout, rate limit, 5xx) that lasted through its retries.

    Not a permanent NETWORK_ERROR: a certificate that does not verify, a host
    name that does not exist, a client used from another event loop. Those
    are mistakes, like a wrong key, id or variable: the same call fails every
    time, so a fallback would hide them."""
    if isinstance(error, NetworkError) and error.permanent:
        return False
    return isinstance(error, RETRYABLE_ERRORS)


async def render_or_fallback(
    client: PromptOpsClient,
    prompt_id: str,
    variables: Mapping[str, Any],
    fallback: str,
) -> str:
    """Render a prompt; during an outage return `fallback` instead of failing
    the request. A mistake is raised."""
    try:
        rendered = await client.render_prompt(prompt_id, variables)
    except PromptOpsError as exc:
        if not is_outage(exc):
            raise  # the same call will fail every time: surface it
        # The client has already retried (with backoff, within its deadline):
        # the failure lasted. Serve the fallback and keep going.
        logger.warning(
            "PromptOps unavailable, using fallback for %s: %s", prompt_id, exc
        )
        return fallback
    return rendered.content
