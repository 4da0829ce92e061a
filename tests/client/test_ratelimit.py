"""`RateLimiter`: one request rate shared by the clients of one key, proven against the mock's
quota on fake time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from snippets.client import PromptOpsClient, RateLimiter, RateLimitError
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI

MINUTE = 60.0


def on_fake_time(clock: FakeClock, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(main())


def test_requests_are_spaced_evenly_and_never_more_than_the_limit_in_a_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, per=1.0, clock=clock)
    sent: list[float] = []

    async def main() -> None:
        for _ in range(7):
            await limiter.acquire()
            sent.append(round(clock.monotonic(), 6))

    on_fake_time(clock, main)
    assert sent == [0.0, 0.333333, 0.666667, 1.0, 1.333333, 1.666667, 2.0]


def test_a_caller_woken_late_does_not_push_the_schedule_back() -> None:
    """Under a busy event loop each caller wakes a little late: were the next slot counted from
    then, the lateness would add up and leave part of the quota unused."""
    clock = FakeClock()
    limiter = RateLimiter(10, per=1.0, clock=clock)

    async def main() -> list[float]:
        times = []
        await limiter.acquire()
        # The loop is busy from 0.09 s to 0.15 s: the caller due at 0.1 s wakes 50 ms late.
        asyncio.get_running_loop().call_later(0.09, clock.advance, 0.06)
        for _ in range(2):
            await limiter.acquire()
            times.append(round(clock.monotonic(), 6))
        return times

    assert on_fake_time(clock, main) == [0.15, 0.2]


def test_after_a_gap_the_schedule_starts_afresh() -> None:
    """No burst after a quiet spell: the next request is spaced from the one after the gap."""
    clock = FakeClock()
    limiter = RateLimiter(10, per=1.0, clock=clock)

    async def main() -> list[float]:
        await limiter.acquire()
        clock.advance(5)
        times = []
        for _ in range(2):
            await limiter.acquire()
            times.append(round(clock.monotonic(), 6))
        return times

    assert on_fake_time(clock, main) == [5.0, 5.1]


def test_a_pause_holds_every_caller_until_it_ends() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per=1.0, clock=clock)

    async def main() -> list[float]:
        await limiter.acquire()
        limiter.pause(5)
        times = []
        for _ in range(2):
            await limiter.acquire()
            times.append(clock.monotonic())
        return times

    assert on_fake_time(clock, main) == [5.0, 5.01]


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "7"}, 7.0),
        ({"RateLimit-Remaining": "0, 5;w=3600", "RateLimit-Reset": "7;w=60"}, 7.0),
        ({"RateLimit-Remaining": "3", "RateLimit-Reset": "7"}, 0.0),
        ({"RateLimit-Remaining": "NaN", "RateLimit-Reset": "7"}, 0.0),
        ({}, 0.0),
    ],
)
def test_the_api_s_own_count_pauses_the_limiter_when_nothing_is_left(
    headers: dict[str, str], pause: float
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per=1.0, clock=clock)
    limiter.observe(headers)

    async def main() -> float:
        await limiter.acquire()
        return clock.monotonic()

    assert on_fake_time(clock, main) == pause


@pytest.mark.parametrize(("limit", "per"), [(0, 60), (True, 60), (10, 0), (10, float("inf"))])
def test_a_limiter_that_could_never_send_is_refused(limit: Any, per: Any) -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit, per=per)


WORKERS = 8
QUOTA = 600  # requests a minute, for the key all workers share
MINUTES = 2


def simulate(limiter: RateLimiter | None) -> tuple[int, int, int]:
    """Eight workers rendering as fast as they can for two (fake) minutes, against a key
    allowed 600 requests a minute: (renders done, 429s answered, RATE_LIMIT_ERRORs raised)."""
    clock = FakeClock()
    api = MockPromptOpsAPI(clock=clock)
    api.quota(QUOTA, per=MINUTE)
    done, raised = 0, 0

    async def worker(client: PromptOpsClient) -> None:
        nonlocal done, raised
        while clock.monotonic() < MINUTES * MINUTE:
            try:
                await client.render_prompt("hello-world", {"name": "Ada"})
                done += 1
            except RateLimitError as exc:  # a polite worker waits as long as it was told
                raised += 1
                await asyncio.sleep(exc.retry_after or 1.0)

    async def main() -> None:
        transport = httpx.MockTransport(api.handle)  # the mock, without respx's routing
        clients = [
            PromptOpsClient(api.api_key, clock=clock, rate_limiter=limiter, transport=transport)
            for _ in range(WORKERS)
        ]
        await asyncio.gather(*(worker(client) for client in clients))
        for client in clients:
            await client.aclose()

    on_fake_time(clock, main)
    statuses = Counter(response.status_code for _, response in api.exchanges)
    return done, statuses[429], raised


@pytest.mark.matrix  # two minutes of eight workers; the page's own proof runs in docs
def test_eight_workers_sharing_a_limiter_get_no_429_and_use_the_quota() -> None:
    done, refused, raised = simulate(RateLimiter(QUOTA, per=MINUTE))
    assert (refused, raised) == (0, 0)
    assert done >= 0.9 * QUOTA * MINUTES


@pytest.mark.matrix  # two minutes of eight workers; the page's own proof runs in docs
def test_eight_workers_without_one_meet_429s() -> None:
    """The symptom the limiter removes: the same workers, each on its own, hit the quota."""
    done, refused, _ = simulate(None)
    assert refused > 0
    assert done <= QUOTA * MINUTES
