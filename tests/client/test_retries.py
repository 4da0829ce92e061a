"""Retries, backoff and the deadline, with faked time: nothing here really sleeps."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from snippets.client import (
    AuthenticationError,
    NetworkError,
    PromptNotFoundError,
    PromptOpsClient,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from snippets.client._client import INITIAL_BACKOFF, JITTER, MAX_BACKOFF
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI


def run[T](
    api: MockPromptOpsAPI, call: Callable[[PromptOpsClient], Awaitable[T]], **settings: Any
) -> T:
    """`call(client)` with a client on the mock's (fake) clock and the given settings."""

    async def main() -> T:
        async with PromptOpsClient(clock=api.clock, **settings) as client:
            return await call(client)

    return asyncio.run(main())


def expected_signature(key: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The contract's signature, computed independently of snippets.client.signing."""
    message = f"{timestamp}\n{method}\n{path}\n{hashlib.sha256(body).hexdigest()}".encode()
    return "v1=" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_429_with_retry_after_waits_exactly_that_long_then_succeeds(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.rate_limit(times=1, retry_after=2)
    prompt = run(mock_api, lambda c: c.get_prompt("hello-world"))
    assert prompt.id == "hello-world"
    assert len(clock.sleeps) == 1
    assert 2.0 <= clock.sleeps[0] <= 2.0 * (1 + JITTER)  # never sooner than asked
    assert len(mock_api.requests) == 2


def test_503_three_times_with_two_retries_raises_after_three_attempts(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.server_error(times=3, status=503)
    with pytest.raises(ServerError) as caught:
        run(mock_api, lambda c: c.get_prompt("hello-world"), max_retries=2)
    assert caught.value.code == "SERVER_ERROR"
    assert caught.value.status_code == 503
    assert len(mock_api.requests) == 3
    assert len(clock.sleeps) == 2
    for attempt, slept in enumerate(clock.sleeps):
        full = min(MAX_BACKOFF, INITIAL_BACKOFF * 2**attempt)
        assert full * (1 - JITTER) <= slept <= full


def test_404_is_not_retried(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    with pytest.raises(PromptNotFoundError) as caught:
        run(mock_api, lambda c: c.get_prompt("no-such-prompt"))
    assert caught.value.code == "PROMPT_NOT_FOUND"
    assert len(mock_api.requests) == 1
    assert clock.sleeps == []


def test_401_is_not_retried(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    with pytest.raises(AuthenticationError):
        run(mock_api, lambda c: c.health_check(), api_key="po_wrong")
    assert len(mock_api.requests) == 1


def test_every_attempt_is_signed_anew_with_a_fresh_timestamp(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.rate_limit(times=2, retry_after=3)
    start = int(clock.time())
    run(mock_api, lambda c: c.render_prompt("hello-world", {"name": "Ada"}))
    assert len(mock_api.requests) == 3
    timestamps = [int(r.headers["X-PromptOps-Timestamp"]) for r in mock_api.requests]
    first, second = clock.sleeps  # 3 s asked each time, and up to 25 % more
    assert timestamps == [start, int(start + first), int(start + first + second)]
    signatures = set()
    for request in mock_api.requests:
        assert request.headers["Authorization"] == f"Bearer {mock_api.api_key}"
        signature = request.headers["X-PromptOps-Signature"]
        assert signature == expected_signature(
            mock_api.api_key,
            request.headers["X-PromptOps-Timestamp"],
            request.method,
            request.url.raw_path.decode(),
            request.content,
        )
        signatures.add(signature)
    assert len(signatures) == 3


def test_retry_after_over_the_cap_is_raised_at_once(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.rate_limit(times=1, retry_after=120)
    with pytest.raises(RateLimitError) as caught:
        run(mock_api, lambda c: c.get_prompt("hello-world"))
    assert caught.value.retry_after == 120
    assert len(mock_api.requests) == 1
    assert clock.sleeps == []


def test_429_without_retry_after_waits_the_normal_backoff(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """The Retry-After header itself is read in test_untrusted_answers.py's table."""
    mock_api.rate_limit(times=1, retry_after=None)  # no retry_after: exponential backoff
    run(mock_api, lambda c: c.get_prompt("hello-world"))
    assert len(clock.sleeps) == 1 and clock.sleeps[0] <= INITIAL_BACKOFF


def test_connection_refused_is_retried_then_raised_as_network_error(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.connection_refused(times=5)
    with pytest.raises(NetworkError) as caught:
        run(mock_api, lambda c: c.health_check(), max_retries=2)
    assert "Connection refused" in caught.value.message
    assert len(mock_api.requests) == 3


def test_an_attempt_that_hangs_times_out_at_its_share_and_leaves_time_for_a_retry(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """timeout=3, max_retries=2: each attempt has 1 s; one that hangs is retried."""
    mock_api.timeout(times=1)
    start = clock.monotonic()
    prompt = run(mock_api, lambda c: c.get_prompt("hello-world"), timeout=3, max_retries=2)
    assert prompt.id == "hello-world"
    assert len(mock_api.requests) == 2
    assert clock.monotonic() - start <= 1 + INITIAL_BACKOFF


def test_read_timeouts_stop_at_the_overall_deadline(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.timeout(times=10)  # each attempt spends its whole share of the deadline
    start = clock.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        run(mock_api, lambda c: c.get_prompt("hello-world"), timeout=10, max_retries=5)
    assert caught.value.code == "TIMEOUT_ERROR"
    assert clock.monotonic() - start <= 10
    assert len(mock_api.requests) > 1  # the hung attempts were retried while time was left
    assert caught.value.message.startswith(
        "GET /v1/client/prompts/hello-world: no answer within the 10 s deadline ("
    )


def test_gateway_timeout_504_is_retried(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    mock_api.gateway_timeout(times=1)
    assert run(mock_api, lambda c: c.health_check()).status == "healthy"
    assert len(mock_api.requests) == 2


def test_a_wait_past_the_deadline_is_not_started(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.rate_limit(times=1, retry_after=5)
    with pytest.raises(RateLimitError):
        run(mock_api, lambda c: c.get_prompt("hello-world"), timeout=4)
    assert clock.sleeps == []


def test_malformed_body_is_a_server_error_and_not_retried_when_status_is_200(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.malformed_body(times=1)
    with pytest.raises(ServerError) as caught:
        run(mock_api, lambda c: c.get_prompt("hello-world"))
    assert "not a PromptOps JSON envelope" in caught.value.message
    assert len(mock_api.requests) == 1


def test_proxy_html_502_is_retried(mock_api: MockPromptOpsAPI) -> None:
    mock_api.malformed_body(
        times=1, status=502, body=b"<html>Bad Gateway</html>", content_type="text/html"
    )
    assert run(mock_api, lambda c: c.get_prompt("hello-world")).version == 3
    assert len(mock_api.requests) == 2


def test_clock_skew_over_300_seconds_is_an_authentication_error(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.clock_skew(301)
    with pytest.raises(AuthenticationError) as caught:
        run(mock_api, lambda c: c.health_check())
    assert "timestamp" in caught.value.message


def test_clock_skew_within_300_seconds_is_accepted(mock_api: MockPromptOpsAPI) -> None:
    mock_api.clock_skew(-299)
    assert run(mock_api, lambda c: c.health_check()).status == "healthy"
