"""A circuit breaker: stop calling an API that keeps failing, probe it again
after a cool-down."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from snippets.client import RETRYABLE_ERRORS, NetworkError, PromptOpsError
from snippets.client.clock import SYSTEM_CLOCK, Clock

T = TypeVar("T")


class CircuitOpenError(Exception):
    """Raised instead of calling the API while the circuit is open."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(
            f"circuit open: PromptOps failing, next probe in {retry_in:.0f} s"
        )
        self.retry_in = retry_in


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive outage errors; after
    `reset_timeout` seconds lets one probe call through; closes again when the
    API answers the probe.

    Only outages count, the errors the client retries (network, timeout, rate
    limit, 5xx). A mistake passes through without tripping the breaker: a
    wrong key or prompt id, or a permanent NETWORK_ERROR (a certificate that
    does not verify, a host that does not exist, a client used from another
    event loop), which is your bug or your network's, not the API being down.
    A probe that gets no answer (cancelled, or failed before a request was
    sent) leaves it open. The probe is a client call, so the client's deadline
    bounds it: the breaker is never stuck.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if isinstance(failure_threshold, bool) or not isinstance(
            failure_threshold, int
        ):
            raise ValueError(
                f"failure_threshold must be an int, got {failure_threshold!r}"
            )
        if failure_threshold < 1:
            raise ValueError(
                "failure_threshold must be at least 1, "
                f"got {failure_threshold}"
            )
        if isinstance(reset_timeout, bool) or not isinstance(
            reset_timeout, int | float
        ):
            raise ValueError(
                "reset_timeout must be a number of seconds, "
                f"got {reset_timeout!r}"
            )
        if not (math.isfinite(reset_timeout) and reset_timeout > 0):
            raise ValueError(
                "reset_timeout must be finite and > 0 seconds, "
                f"got {reset_timeout}"
            )
        self.failure_threshold = failure_threshold
        self.reset_timeout = float(reset_timeout)
        self.clock = clock
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
        probing = self.state == "half-open"
        try:
            result = await operation()
        except PromptOpsError as exc:
            if is_outage(exc):
                self.failures += 1
                if probing or self.failures >= self.failure_threshold:
                    self.state, self.opened_at = "open", self.clock.monotonic()
            elif probing:
                # The API answered (401, 404, 422): it is up. No answer: open.
                self.state = (
                    "closed" if exc.status_code is not None else "open"
                )
            raise
        except BaseException:
            if (
                probing
            ):  # cancelled, or our own bug: we learnt nothing about the API
                self.state = "open"
            raise
        self.state, self.failures = "closed", 0
        return result


def is_outage(error: PromptOpsError) -> bool:
    """An error the client retries, that lasted: not a permanent one."""
    if isinstance(error, NetworkError) and error.permanent:
        return False
    return isinstance(error, RETRYABLE_ERRORS)
