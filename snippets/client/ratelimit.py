"""`RateLimiter`: one request rate for every client that shares it, so that workers on one API
key stay under the key's quota instead of finding it with 429s.

```python
limiter = RateLimiter(600, per=60)  # the plan's quota: 600 requests a minute
clients = [PromptOpsClient(rate_limiter=limiter) for _ in range(8)]  # eight workers, one key
```

A semaphore caps requests in flight, not requests per minute: five in flight at 50 ms each
is 6,000 a minute. The limiter caps the rate: never more than `limit` requests in any `per`
seconds, spaced `per / limit` apart. When the API says to wait (a 429's `Retry-After`, or
`RateLimit-Remaining: 0` with `RateLimit-Reset`), every client sharing the limiter waits.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Mapping

from .clock import SYSTEM_CLOCK, Clock


class RateLimiter:
    """At most `limit` requests in any `per` seconds, for every client that shares it.

    Args:
        limit: Requests allowed in `per` seconds: your plan's quota (or your share of it, when
            other processes use the same key).
        per: The quota's window, in seconds.
        clock: Where time comes from; the waits are the event loop's (on
            `FakeClock.event_loop()`, fake).
    """

    def __init__(self, limit: int, *, per: float = 60.0, clock: Clock = SYSTEM_CLOCK) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be an int >= 1, got {limit!r}")
        if not isinstance(per, int | float) or not math.isfinite(per) or per <= 0:
            raise ValueError(f"per must be a finite number of seconds > 0, got {per!r}")
        self.limit, self.per, self.clock = limit, float(per), clock
        self._sent: deque[float] = deque()  # when the requests of the last `per` seconds went
        self._next = -math.inf  # the earliest time the next request may go (spacing)
        self._paused_until = -math.inf  # what the API asked for
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({self.limit}, per={self.per:g})"

    async def acquire(self) -> None:
        """Wait until a request may go, and count it. Callers go one at a time, in order."""
        arrived = self.clock.monotonic()
        async with self._lock:
            while True:
                now = self.clock.monotonic()
                while self._sent and self._sent[0] <= now - self.per:
                    self._sent.popleft()
                ready = max(self._next, self._paused_until)
                if len(self._sent) >= self.limit:
                    ready = max(ready, self._sent[0] + self.per)
                if ready <= now:
                    break
                await asyncio.sleep(ready - now)
            # A caller that was already waiting when its turn came counts from its turn, however
            # late a busy event loop woke it: lateness does not push every later request back
            # and leave part of the quota unused. One that comes after its turn (a quiet spell)
            # starts the schedule afresh, with no burst. The window's count holds either way.
            start = ready if arrived <= ready else now
            self._sent.append(now)
            self._next = start + self.per / self.limit

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (a `Retry-After`): every client sharing this waits."""
        if math.isfinite(seconds) and seconds > 0:
            self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the API's own count from an answer's headers: with no request left
        (`RateLimit-Remaining: 0`), pause until `RateLimit-Reset`."""
        remaining = _first_number(headers.get("RateLimit-Remaining"))
        reset = _first_number(headers.get("RateLimit-Reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            self.pause(reset)


def _first_number(value: str | None) -> float | None:
    """`5` from `5`, `5, 10;w=1` or `5;w=60`; None if there is none."""
    if value is None:
        return None
    try:
        number = float(value.split(",")[0].split(";")[0].strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None
