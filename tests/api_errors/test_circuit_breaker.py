"""The circuit breaker (snippets/api_errors/circuit_breaker.py), with fake time."""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any

import pytest

from snippets.api_errors.circuit_breaker import CircuitBreaker, CircuitOpenError
from snippets.client import (
    NetworkError,
    PromptNotFoundError,
    PromptOpsClient,
    ServerError,
    ValidationError,
)
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.tls import local_tls_server


def attempt(breaker: CircuitBreaker, prompt_id: str = "hello-world") -> str:
    """One breaker-guarded call; returns "ok" or the exception's class name."""

    async def main() -> str:
        async with PromptOpsClient(max_retries=0, clock=breaker.clock) as client:
            try:
                await breaker.call(lambda: client.get_prompt(prompt_id))
            except Exception as exc:
                return type(exc).__name__
            return "ok"

    return asyncio.run(main())


def test_opens_after_n_consecutive_failures_then_stops_calling(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=30, clock=clock)
    mock_api.server_error(times=100)
    assert [attempt(breaker) for _ in range(3)] == ["ServerError"] * 3
    assert breaker.state == "open"
    sent = len(mock_api.requests)
    assert attempt(breaker) == "CircuitOpenError"
    assert len(mock_api.requests) == sent  # no request while open


def test_success_resets_the_count(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    mock_api.server_error(times=2)
    assert [attempt(breaker) for _ in range(4)] == ["ServerError", "ServerError", "ok", "ok"]
    mock_api.server_error(times=2)
    assert [attempt(breaker) for _ in range(2)] == ["ServerError", "ServerError"]
    assert breaker.state == "closed"


def test_one_probe_after_the_cool_down_closes_on_success(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30, clock=clock)
    mock_api.server_error(times=2)
    attempt(breaker), attempt(breaker)
    clock.advance(29)
    assert attempt(breaker) == "CircuitOpenError"
    clock.advance(1)
    assert attempt(breaker) == "ok"
    assert breaker.state == "closed"


def test_a_failed_probe_reopens_for_another_cool_down(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30, clock=clock)
    mock_api.server_error(times=3)
    attempt(breaker), attempt(breaker)
    clock.advance(30)
    assert attempt(breaker) == "ServerError"  # the probe
    assert breaker.state == "open"
    clock.advance(10)
    assert attempt(breaker) == "CircuitOpenError"
    clock.advance(20)
    assert attempt(breaker) == "ok"


def test_only_one_probe_at_a_time(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    mock_api.server_error(times=1)
    attempt(breaker)
    clock.advance(5)
    mock_api.simulate_latency(1)

    async def main() -> list[str]:
        async with PromptOpsClient(clock=clock) as client:

            async def guarded() -> str:
                try:
                    await breaker.call(lambda: client.get_prompt("hello-world"))
                except CircuitOpenError:
                    return "rejected"
                return "ok"

            return list(await asyncio.gather(guarded(), guarded(), guarded()))

    assert sorted(asyncio.run(main())) == ["ok", "rejected", "rejected"]
    # A rejected caller may try again as soon as the probe is answered: no wait to announce.
    breaker.state = "half-open"
    with pytest.raises(CircuitOpenError) as caught:
        asyncio.run(breaker.call(lambda: asyncio.sleep(0)))
    assert caught.value.retry_in == 0


def test_caller_mistakes_do_not_trip_it(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)
    assert [attempt(breaker, "missing") for _ in range(5)] == ["PromptNotFoundError"] * 5
    assert breaker.state == "closed"


def test_open_error_says_when_to_retry_and_calls_nothing(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30, clock=clock)
    calls = 0

    async def fail() -> None:
        nonlocal calls
        calls += 1
        raise ServerError("down", status_code=503)

    with pytest.raises(ServerError):
        asyncio.run(breaker.call(fail))
    clock.advance(12)
    with pytest.raises(CircuitOpenError, match="next probe in 18 s") as caught:
        asyncio.run(breaker.call(fail))
    assert caught.value.retry_in == 18
    assert calls == 1  # open: the second call never reached the operation


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"failure_threshold": 0}, "failure_threshold must be at least 1, got 0"),
        ({"failure_threshold": -3}, "failure_threshold must be at least 1, got -3"),
        ({"failure_threshold": 2.5}, "failure_threshold must be an int, got 2.5"),
        ({"failure_threshold": True}, "failure_threshold must be an int, got True"),
        ({"reset_timeout": math.inf}, "reset_timeout must be finite and > 0 seconds, got inf"),
        ({"reset_timeout": math.nan}, "reset_timeout must be finite and > 0 seconds, got nan"),
        ({"reset_timeout": -1}, "reset_timeout must be finite and > 0 seconds, got -1"),
        ({"reset_timeout": 0}, "reset_timeout must be finite and > 0 seconds, got 0"),
        ({"reset_timeout": "30"}, "reset_timeout must be a number of seconds, got '30'"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        CircuitBreaker(**settings)
    assert str(caught.value) == message


def test_a_cool_down_under_a_second_is_a_setting_like_any_other() -> None:
    assert CircuitBreaker(reset_timeout=0.5).reset_timeout == 0.5


def test_by_default_five_failures_open_it_for_30_s(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(clock=clock)
    mock_api.server_error(times=5)
    assert [attempt(breaker) for _ in range(4)] == ["ServerError"] * 4
    after_four = breaker.state
    assert attempt(breaker) == "ServerError"
    assert (after_four, breaker.state) == ("closed", "open")
    with pytest.raises(CircuitOpenError, match="next probe in 30 s"):
        asyncio.run(breaker.call(lambda: asyncio.sleep(0)))


def half_open(clock: FakeClock) -> CircuitBreaker:
    """A breaker whose next call is the probe."""
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, clock=clock)

    async def fail() -> None:
        raise ServerError("down", status_code=503)

    with pytest.raises(ServerError):
        asyncio.run(breaker.call(fail))
    clock.advance(10)
    return breaker


def test_a_cancelled_probe_leaves_it_open_and_the_next_call_probes_again(
    clock: FakeClock,
) -> None:
    breaker = half_open(clock)

    async def cancelled_probe() -> None:
        probe = asyncio.ensure_future(breaker.call(asyncio.Event().wait))
        await asyncio.sleep(0)
        assert breaker.state == "half-open"
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe

    asyncio.run(cancelled_probe())
    assert breaker.state == "open"

    async def ok() -> str:
        return "ok"

    assert asyncio.run(breaker.call(ok)) == "ok"  # no new cool-down: it probes at once
    assert str(breaker.state) == "closed"  # str(): mypy narrowed the state to "open" above


@pytest.mark.parametrize(
    "error",
    [ValidationError("bad variable, caught before sending"), RuntimeError("our own bug")],
)
def test_a_probe_that_failed_before_reaching_the_api_does_not_close_it(
    clock: FakeClock, error: Exception
) -> None:
    breaker = half_open(clock)

    async def fail() -> None:
        raise error

    with pytest.raises(type(error)):
        asyncio.run(breaker.call(fail))
    assert breaker.state == "open"


def test_a_probe_the_api_answered_with_a_client_error_closes_it(clock: FakeClock) -> None:
    breaker = half_open(clock)

    async def not_found() -> None:
        raise PromptNotFoundError("no such prompt", status_code=404)

    with pytest.raises(PromptNotFoundError):
        asyncio.run(breaker.call(not_found))
    assert breaker.state == "closed"


def _permanent() -> NetworkError:
    return NetworkError(
        "Could not reach https://api.promptops.com: [SSL: CERTIFICATE_VERIFY_FAILED]",
        permanent=True,
    )


def test_a_permanent_network_error_is_a_mistake_it_lets_through_without_counting(
    clock: FakeClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)

    async def misconfigured() -> None:
        raise _permanent()

    for _ in range(3):
        with pytest.raises(NetworkError):
            asyncio.run(breaker.call(misconfigured))
    assert (breaker.state, breaker.failures) == ("closed", 0)


def test_a_passing_network_error_is_an_outage_it_counts(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)

    async def refused() -> None:
        raise NetworkError("Could not reach https://api.promptops.com: [Errno 111] refused")

    for _ in range(2):
        with pytest.raises(NetworkError):
            asyncio.run(breaker.call(refused))
    assert breaker.state == "open"


def test_a_probe_that_fails_with_a_permanent_network_error_leaves_it_open(
    clock: FakeClock,
) -> None:
    """No answer came: nothing was learnt about the API."""
    breaker = half_open(clock)

    async def misconfigured() -> None:
        raise _permanent()

    with pytest.raises(NetworkError):
        asyncio.run(breaker.call(misconfigured))
    assert breaker.state == "open"


def test_a_real_certificate_failure_passes_through_a_closed_breaker(clock: FakeClock) -> None:
    """The page's proof: a server whose certificate this machine does not trust (a proxy that
    re-signs HTTPS) fails every call the same way; the breaker stays closed."""
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)

    async def main() -> list[str]:
        seen = []
        async with local_tls_server() as server:
            url = f"https://{server.host}:{server.port}"
            async with PromptOpsClient("po_x", base_url=url, clock=clock) as client:
                for _ in range(3):
                    try:
                        await breaker.call(client.health_check)
                    except NetworkError as exc:
                        seen.append(f"{exc.code} permanent={exc.permanent}")
        return seen

    assert asyncio.run(main()) == ["NETWORK_ERROR permanent=True"] * 3
    assert breaker.state == "closed"
