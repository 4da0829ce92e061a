"""Time, passed in: whatever reads or spends time takes a `clock=` argument, as httpx takes
`transport=`, and uses the real clock, `SYSTEM_CLOCK`, when none is given.

`FakeClock` is the one way to fake time: hand it to what you test, and a 2 s `retry_after`
takes no real time and every duration printed is the same on every machine. Code that builds
its own client (a script, a docs example) runs on `FakeClock.event_loop()`: an asyncio event
loop whose time is the fake clock, so its sleeps, timeouts and measured durations are fake too.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar, TypeVarTuple

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


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
    """The real clock; on an event loop that runs on a `FakeClock` (`FakeClock.event_loop()`),
    that clock. So code on a fake loop reads one time, whichever clock it was given: a client
    made with the default clock signs with the mock's time in a test."""

    def time(self) -> float:
        loop = _running_loop()
        return loop.clock.time() if isinstance(loop, _FakeTimeLoop) else time.time()

    def monotonic(self) -> float:
        loop = _running_loop()
        return time.monotonic() if loop is None else loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def block(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # no event loop running
        return None


class FakeClock:
    """A clock that only moves when something sleeps or blocks; it records every sleep."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._start = start
        # Kept apart from `start`: added to a Unix time, small steps would be lost to rounding.
        self._elapsed = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._start + self._elapsed

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        loop = asyncio.get_running_loop()
        if isinstance(loop, _FakeTimeLoop) and loop.clock is self:
            await asyncio.sleep(seconds)  # the loop moves the clock: sleepers overlap, as in life
        else:
            self.advance(seconds)
            await asyncio.sleep(0)  # still let other tasks run, as a real sleep would

    def block(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._elapsed += max(0.0, seconds)

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """A new asyncio event loop that runs on this clock: `asyncio.Runner(loop_factory=
        clock.event_loop)`. While only timers are pending, it moves the clock to the next one
        at once; while it waits for real I/O (a socket, or work on another thread such as a
        DNS lookup), time passes as it really does."""
        return _FakeTimeLoop(self)


class _FakeTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: FakeClock) -> None:
        self._jumping = _JumpingSelector(clock)
        super().__init__(self._jumping)
        self._jumping.own_files = len(self._jumping.get_map())  # the loop's wake-up pipe
        self.clock = clock

    def time(self) -> float:
        return self.clock.monotonic()

    def run_in_executor(
        self,
        executor: Executor | None,
        func: Callable[[*_Ts], _T],
        *args: *_Ts,
    ) -> asyncio.Future[_T]:
        """Work on another thread (`getaddrinfo` for a host name) takes real time: while some
        runs, the loop waits for it as for a socket, instead of jumping to its next timer."""
        future = super().run_in_executor(executor, func, *args)
        self._jumping.working += 1
        future.add_done_callback(self._done_working)
        return future

    def _done_working(self, future: asyncio.Future[Any]) -> None:
        self._jumping.working -= 1


class _JumpingSelector(selectors.DefaultSelector):
    """Asked to wait, it returns at once with the clock moved to the deadline, unless a real
    file (a socket) is being watched or work runs on another thread: then it waits for real,
    and the clock moves as much."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock
        self.own_files = 0
        self.working = 0
        """Calls running in an executor: they end by waking the loop through its pipe."""

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if len(self.get_map()) > self.own_files or self.working or timeout is None:
            started = time.monotonic()
            ready = super().select(timeout)
            self._clock.advance(time.monotonic() - started)
            return ready
        self._clock.advance(timeout)
        return []
