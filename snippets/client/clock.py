"""Time, injected: the client and the mock API read and spend time only through a `Clock`.

Tests and docs examples swap in `FakeClock`, so a 2 s `retry_after` takes no
real time and every printed duration is the same on every machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock Unix time, for request timestamps."""
        ...

    def monotonic(self) -> float:
        """A clock that never goes back, for deadlines, TTLs and durations."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait (backoff between retries)."""
        ...

    def block(self, seconds: float) -> None:
        """Spend time without yielding (the mock API's simulated latency)."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def block(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A clock that only moves when something sleeps or blocks; it records every sleep."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._start = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)  # still let other tasks run, as a real sleep would

    def block(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


system_clock = SystemClock()

_default_clock: Clock = system_clock


def default_clock() -> Clock:
    """The clock a client or mock uses when none is passed (the system clock, unless a
    test harness swapped it with `use_clock`)."""
    return _default_clock


def use_clock(clock: Clock) -> Clock:
    """Make `clock` the default for clients created from now on; returns the previous one."""
    global _default_clock
    previous, _default_clock = _default_clock, clock
    return previous
