"""Retries and waits, from the client's log records
(snippets/performance_issues/retry_waits.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from snippets.client import PromptOpsClient, ServerError
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.performance_issues.retry_waits import watch_retries


def fetch_hello_world(api: MockPromptOpsAPI) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=api.clock) as client:
            await client.get_prompt("hello-world")

    asyncio.run(main())


def test_a_retry_after_wait_is_counted_in_full(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.rate_limit(times=1, retry_after=2)
    with watch_retries() as retries:
        fetch_hello_world(mock_api)
    (waited,) = clock.sleeps
    assert retries.report() == (
        f"GET /v1/client/prompts/hello-world: 1 retry(ies) after RATE_LIMIT_ERROR, {waited:.1f} "
        "s waiting"
    )
    assert retries.total_wait == pytest.approx(waited, abs=0.05)
    assert 2.0 <= waited <= 2.5  # what the API asked, and up to 25 % more


def test_backoff_waits_add_up_to_what_the_client_slept(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.server_error(times=3, status=503)
    with watch_retries() as retries, pytest.raises(ServerError):
        fetch_hello_world(mock_api)
    (endpoint,) = retries.endpoints.values()
    assert endpoint.retries == 2 and endpoint.causes == ["SERVER_ERROR"] * 2
    assert endpoint.waited == pytest.approx(sum(clock.sleeps), abs=0.1)
    assert 0.5 < endpoint.waited <= 1.5  # 0.5 s then 1 s, each shortened by up to 25 %


def test_a_call_without_failures_reports_no_retries(mock_api: MockPromptOpsAPI) -> None:
    with watch_retries() as retries:
        fetch_hello_world(mock_api)
    assert retries.endpoints == {}
    assert retries.report() == "no retries: every call succeeded or failed at once"


def test_the_logger_is_left_as_it_was(mock_api: MockPromptOpsAPI) -> None:
    logger = logging.getLogger("promptops")
    level, handlers = logger.level, logger.handlers[:]
    logger.setLevel(logging.WARNING)
    try:
        with watch_retries():
            assert logger.getEffectiveLevel() == logging.INFO
        assert logger.level == logging.WARNING and logger.handlers == handlers
    finally:
        logger.setLevel(level)


def test_each_endpoint_is_a_line_and_each_cause_named_once(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=clock) as client:
            await client.list_prompts()  # takes the first fault: a path matches its prefixes
            await client.get_prompt("hello-world")

    mock_api.rate_limit(times=1, retry_after=3, path="/v1/client/prompts")
    mock_api.server_error(times=1, status=503, path="/v1/client/prompts/hello-world")
    mock_api.rate_limit(times=1, retry_after=2, path="/v1/client/prompts/hello-world")
    with watch_retries() as retries:
        asyncio.run(main())
    first, second = retries.report().splitlines()
    assert first == (
        f"GET /v1/client/prompts: 1 retry(ies) after RATE_LIMIT_ERROR, {clock.sleeps[0]:.1f} s "
        "waiting"
    )
    assert second.startswith(
        "GET /v1/client/prompts/hello-world: 2 retry(ies) after RATE_LIMIT_ERROR, SERVER_ERROR, "
    )


def test_other_log_records_are_not_counted() -> None:
    """Records of the `promptops` logger that are not retries (a request log line with
    arguments of its own) leave the count alone."""
    with watch_retries() as retries:
        logging.getLogger("promptops").info("%s %s answered %d", "GET", "/v1/health", 200)
    assert retries.endpoints == {}


def test_retries_add_up_by_cause_across_endpoints(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=clock) as client:
            await client.list_prompts()
            await client.get_prompt("hello-world")

    mock_api.rate_limit(times=1, retry_after=3, path="/v1/client/prompts")
    mock_api.server_error(times=1, status=503, path="/v1/client/prompts/hello-world")
    mock_api.rate_limit(times=1, retry_after=2, path="/v1/client/prompts/hello-world")
    with watch_retries() as retries:
        asyncio.run(main())
    rate_limited, server_error = clock.sleeps[0] + clock.sleeps[2], clock.sleeps[1]
    found = retries.by_cause()
    assert list(found) == ["RATE_LIMIT_ERROR", "SERVER_ERROR"]
    assert found["RATE_LIMIT_ERROR"][0] == 2
    assert found["RATE_LIMIT_ERROR"][1] == pytest.approx(rate_limited, abs=0.1)
    assert found["SERVER_ERROR"][0] == 1
    assert found["SERVER_ERROR"][1] == pytest.approx(server_error, abs=0.05)
