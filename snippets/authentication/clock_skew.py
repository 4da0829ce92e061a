"""Measure this machine's clock offset from the PromptOps API's, using the
`Date` header of its public health endpoint (no key needed).

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.authentication.clock_skew
    python -m snippets.authentication.clock_skew --mock
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import ssl
import sys
from typing import Literal

import httpx

from snippets.cli import run_script
from snippets.client import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    NetworkError,
    RequestTimeoutError,
    ServerError,
    check_base_url,
    describe_transport_error,
)
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.client.signing import TIMESTAMP_TOLERANCE


async def measure_clock_skew(
    base_url: str | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    deadline: float = 10.0,
    verify: ssl.SSLContext | bool = True,
) -> float:
    """Seconds this machine's clock is ahead of the API's (negative: behind).

    Uses the public health endpoint, so it needs no key and works while
    authentication fails. The whole measurement has `deadline` seconds.
    Failures are the client's errors: the URL checked as the client checks it,
    and no answer, no connection or no `Date` header each a `PromptOpsError`.
    `verify`: the CAs to trust, as httpx takes them.
    """
    if base_url is None:
        url = check_base_url(
            os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL), BASE_URL_ENV
        )
    else:
        url = check_base_url(base_url)
    try:
        async with (
            asyncio.timeout(deadline),
            httpx.AsyncClient(base_url=url, verify=verify) as http,
        ):
            sent = clock.time()
            response = await http.get("/v1/health")
            received = clock.time()
    except TimeoutError:
        raise RequestTimeoutError(
            f"GET /v1/health: no answer within {deadline:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise NetworkError(
            f"Could not reach {url}: {describe_transport_error(exc)}"
        ) from None
    try:
        server_time = email.utils.parsedate_to_datetime(
            response.headers["Date"]
        ).timestamp()
    except (KeyError, TypeError, ValueError):
        raise ServerError(
            f"GET /v1/health answered HTTP {response.status_code} without a "
            "valid Date header",
            status_code=response.status_code,
        ) from None
    return (sent + received) / 2 - server_time


def judge_skew(
    offset: float,
) -> tuple[Literal["OK", "WARN", "ERROR"], str]:
    """The verdict on an offset, and why, in whole seconds: the `Date` header
    counts no fractions."""
    direction = "ahead of" if offset > 0 else "behind"
    seconds = int(abs(offset))
    if seconds <= 5:
        return "OK", f"clock within {seconds} s of the server"
    if seconds <= TIMESTAMP_TOLERANCE:
        return (
            "WARN",
            f"clock {seconds} s {direction} the server; sync it (NTP)",
        )
    return "ERROR", (
        f"clock {seconds} s {direction} the server, over the "
        f"{TIMESTAMP_TOLERANCE} s window: every request is rejected. "
        "Sync it (NTP)"
    )


def explain_skew(offset: float) -> str:
    """The verdict on an offset as one line: `OK: clock within 0 s of ...`."""
    level, reason = judge_skew(offset)
    return f"{level}: {reason}"


async def _check() -> int:
    verdict = explain_skew(await measure_clock_skew())
    print(verdict)
    return 1 if verdict.startswith("ERROR") else 0


def main(argv: list[str] | None = None) -> int:
    return run_script("clock-skew", _check, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
