"""Clock skew: this machine's clock against the PromptOps API's, from the
`Date` header of its public health endpoint (no key needed, so it works
while authentication fails).

    promptops-clock-skew
    promptops-clock-skew --mock  # the mock API this package bundles
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from snippets.checks import Check, CheckContext, Outcome, Report, run_checks
from snippets.cli import run_check_tool
from snippets.client import (
    ConfigurationError,
    Probe,
    PromptOpsClient,
    PromptOpsError,
    ServerError,
)
from snippets.client.signing import TIMESTAMP_TOLERANCE

UNMEASURED_FIX = (
    "Nothing was measured: promptops-config-doctor checks the settings, "
    "promptops-network-diagnostics the way to the API"
)
NTP_FIX = (
    "Sync this machine's clock: timedatectl set-ntp true (systemd), or "
    "chrony or ntpd"
)


async def measure_clock_skew(client: PromptOpsClient) -> float:
    """Seconds this machine's clock is ahead of the API's (negative: behind).

    One GET of `/v1/health`, the way the client sends every call, within its
    deadline; the API's time is taken at the middle of the round trip.
    """
    probe = await client.probe("/v1/health")
    offset = offset_of(probe)
    if offset is None:
        raise ServerError(no_date(probe), status_code=probe.status)
    return offset


def offset_of(probe: Probe) -> float | None:
    if probe.server_time is None:
        return None
    return (probe.sent + probe.received) / 2 - probe.server_time


def no_date(probe: Probe) -> str:
    return (
        f"GET /v1/health answered HTTP {probe.status} without a valid Date "
        "header"
    )


def judge_skew(offset: float) -> Outcome:
    """The verdict on an offset, in whole seconds: the `Date` header counts
    no fractions. Over the signature's window, every request is refused."""
    direction = "ahead of" if offset > 0 else "behind"
    seconds = int(abs(offset))
    measured = {"offset_seconds": float(int(offset))}
    if seconds <= 5:
        return Outcome(
            "ok", f"clock within {seconds} s of the server", None, measured
        )
    if seconds <= TIMESTAMP_TOLERANCE:
        return Outcome(
            "warning",
            f"clock {seconds} s {direction} the server: sync it before it "
            f"passes {TIMESTAMP_TOLERANCE} s",
            None,
            measured,
        )
    return Outcome(
        "failure",
        f"clock {seconds} s {direction} the server, over the "
        f"{TIMESTAMP_TOLERANCE} s window: every request is rejected",
        None,
        measured,
    )


async def clock(ctx: CheckContext) -> Outcome:
    try:
        client = await ctx.client(require_key=False)
        probe = await client.probe("/v1/health")
    except (ConfigurationError, PromptOpsError) as exc:
        return Outcome("failure", str(exc), UNMEASURED_FIX)  # not the clock
    offset = offset_of(probe)
    if offset is None:
        fix = "A proxy in front of the API may drop the Date header: ask it"
        return Outcome("failure", no_date(probe), fix)
    return judge_skew(offset)


CHECKS = (
    Check(
        "clock",
        "Clock skew",
        clock,
        fix=NTP_FIX,
        section="authentication/#clock-skew-request-timestamp-is-more-than-"
        "300-s-from-server-time",
        what="This machine's clock against the `Date` header of the public "
        "health endpoint: more than 5 s off is a warning, more than the "
        "300 s the signature allows is a failure.",
        needs=("public-health",),
    ),
)


async def check_clock(environ: Mapping[str, str] | None = None) -> Report:
    """The clock check, for the API in `environ` (`os.environ` if None)."""
    ctx = CheckContext(os.environ if environ is None else environ)
    return await run_checks("clock-skew", CHECKS, ctx)


def main(argv: list[str] | None = None) -> int:
    return run_check_tool("clock-skew", CHECKS, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
