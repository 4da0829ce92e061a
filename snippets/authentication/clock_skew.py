"""Measure this machine's clock offset from the PromptOps API's, using the
`Date` header.

# the real API (no key needed)
python -m snippets.authentication.clock_skew
# the bundled mock API
python -m snippets.authentication.clock_skew --mock
"""

from __future__ import annotations

import email.utils
import os
import sys

import httpx

from snippets.cli import run_script
from snippets.client import BASE_URL_ENV, DEFAULT_BASE_URL
from snippets.client.clock import Clock, default_clock
from snippets.client.signing import TIMESTAMP_TOLERANCE


async def measure_clock_skew(
    base_url: str | None = None, *, clock: Clock | None = None
) -> float:
    """Seconds this machine's clock is ahead of the API's (negative: behind).

    Uses the public health endpoint, so it works even when authentication
    fails. The `Date` header has 1 s resolution, so offsets of a second or two
    are noise."""
    clock = clock or default_clock()
    base_url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        sent = clock.time()
        response = await http.get("/v1/health")
        received = clock.time()
    server_time = email.utils.parsedate_to_datetime(
        response.headers["Date"]
    ).timestamp()
    return (sent + received) / 2 - server_time


def explain_skew(offset: float) -> str:
    direction = "ahead of" if offset > 0 else "behind"
    if abs(offset) <= 5:
        return f"OK: clock within {abs(offset):.0f} s of the server"
    if abs(offset) <= TIMESTAMP_TOLERANCE:
        return (
            f"WARN: clock {abs(offset):.0f} s {direction} the server; "
            "sync it (NTP)"
        )
    return (
        f"ERROR: clock {abs(offset):.0f} s {direction} the server, over the "
        f"{TIMESTAMP_TOLERANCE} s window: every request is rejected. "
        "Sync it (NTP)"
    )


async def _check() -> int:
    verdict = explain_skew(await measure_clock_skew())
    print(verdict)
    return 1 if verdict.startswith("ERROR") else 0


def main(argv: list[str] | None = None) -> int:
    return run_script("clock-skew", _check, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
