"""A circuit breaker: stop calling an API that keeps failing, probe it again after a cool-down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from snippets.client import NetworkError, RateLimitError, RequestTimeoutError, ServerError
from snippets.client.clock import Clock, default_clock

T = TypeVar("T")


class CircuitOpenError(Exception):
    """Raised instead of calling the API while the circuit is open."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"circuit open: PromptOps failing, next probe in {retry_in:.0f} s")
        self.retry_in = retry_in


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive outage errors; after `reset_timeout` seconds
    lets one probe call through; closes again when a call succeeds.

    Only outages count (network, timeout, rate limit, 5xx): a wrong key or prompt id is your
    bug, not the API being down, so it passes through without tripping the breaker.
    """

    OUTAGES = (NetworkError, RequestTimeoutError, RateLimitError, ServerError)

    def __init__(
        self, failure_threshold: int = 5, reset_timeout: float = 30.0, clock: Clock | None = None
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.clock = clock or default_clock()
        self.state: Literal["closed", "open", "half-open"] = "closed"
        self.failures = 0
        self.opened_at = 0.0

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        if self.state == "open":
            waited = self.clock.monotonic() - self.opened_at
            if waited < self.reset_timeout:
                raise CircuitOpenError(self.reset_timeout - waited)
            self.state = "half-open"  # this call is the probe
        elif self.state == "half-open":
            raise CircuitOpenError(0)  # a probe is already in flight
        try:
            result = await operation()
        except self.OUTAGES:
            self.failures += 1
            if self.state == "half-open" or self.failures >= self.failure_threshold:
                self.state, self.opened_at = "open", self.clock.monotonic()
            raise
        except BaseException:
            if self.state == "half-open":
                self.state = "closed"  # the API answered: it is up
            raise
        self.state, self.failures = "closed", 0
        return result
