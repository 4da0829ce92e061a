"""Error handling in application code (snippets/api_errors/handle_errors.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from snippets.api_errors.handle_errors import render_or_fallback
from snippets.client import (
    AuthenticationError,
    PromptNotFoundError,
    PromptOpsClient,
    PromptOpsError,
    ValidationError,
)
from snippets.mock_api import MockPromptOpsAPI


def render(
    api: MockPromptOpsAPI, prompt_id: str = "hello-world", api_key: str | None = None
) -> str:
    async def main() -> str:
        async with PromptOpsClient(api_key, clock=api.clock) as client:
            return await render_or_fallback(client, prompt_id, {"name": "Ada"}, "Hello!")

    return asyncio.run(main())


def test_success_returns_the_rendered_text(mock_api: MockPromptOpsAPI) -> None:
    assert render(mock_api) == "Hello, Ada!"


@pytest.mark.parametrize(
    "fault",
    [
        lambda api: api.server_error(times=3),
        lambda api: api.rate_limit(times=3, retry_after=1),
        lambda api: api.gateway_timeout(times=3),
        lambda api: api.connection_refused(times=3),
        lambda api: api.timeout(times=3),
    ],
)
def test_lasting_transient_failures_serve_the_fallback(
    mock_api: MockPromptOpsAPI,
    fault: Callable[[MockPromptOpsAPI], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fault(mock_api)
    assert render(mock_api) == "Hello!"
    assert "using fallback for hello-world" in caplog.text


def test_the_fallback_is_logged_as_a_warning_naming_the_prompt_and_the_error(
    mock_api: MockPromptOpsAPI, caplog: pytest.LogCaptureFixture
) -> None:
    mock_api.server_error(times=3)
    assert render(mock_api) == "Hello!"
    (record,) = [r for r in caplog.records if r.name == "snippets.api_errors.handle_errors"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "PromptOps unavailable, using fallback for hello-world: "
        "SERVER_ERROR: The server is temporarily unavailable"
    )


def test_a_transient_failure_that_clears_is_retried_not_fallen_back(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.server_error(times=2)
    assert render(mock_api) == "Hello, Ada!"


@pytest.mark.parametrize(
    ("prompt_id", "api_key", "error"),
    [
        ("hello-world", "po_wrong", AuthenticationError),
        ("no-such-prompt", None, PromptNotFoundError),
        ("welcome-message", None, ValidationError),  # needs `company` too
    ],
)
def test_mistakes_are_raised_not_hidden(
    mock_api: MockPromptOpsAPI, prompt_id: str, api_key: str | None, error: type[PromptOpsError]
) -> None:
    with pytest.raises(error):
        render(mock_api, prompt_id, api_key)
