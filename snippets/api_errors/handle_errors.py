"""Handling PromptOps errors in application code: degrade on transient
failures, fail loudly on mistakes that a retry cannot fix."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from snippets.client import (
    RETRYABLE_ERRORS,
    AuthenticationError,
    PromptNotFoundError,
    PromptOpsClient,
    ValidationError,
)

logger = logging.getLogger(__name__)


async def render_or_fallback(
    client: PromptOpsClient,
    prompt_id: str,
    variables: Mapping[str, Any],
    fallback: str,
) -> str:
    """Render a prompt; on a lasting outage return `fallback` instead of
    failing the request."""
    try:
        rendered = await client.render_prompt(prompt_id, variables)
    except RETRYABLE_ERRORS as exc:
        # The client has already retried these (with backoff, within its
        # deadline): a failure that reaches your code lasted. Serve the
        # fallback and keep going.
        logger.warning(
            "PromptOps unavailable, using fallback for %s: %s", prompt_id, exc
        )
        return fallback
    except (AuthenticationError, PromptNotFoundError, ValidationError):
        # A wrong key, id or variable: the same call will fail every time.
        # Surface it.
        raise
    return rendered.content
