"""The doctor's table: every tool's checks, in the order a problem shows up (settings, the
network, the API without and with the key, a prompt, latency), and the two checks only the
doctor runs: the rate limit's headroom and a latency sample.

Each check is the page tool's own (`snippets.<page>.<tool>.CHECKS`): the doctor reports what
the tools report, word for word.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Final

from snippets.authentication import clock_skew
from snippets.checks import (
    DEADLINE,
    Check,
    CheckContext,
    Network,
    Outcome,
    Progress,
    Report,
    Status,
    run_checks,
)
from snippets.client import RateLimitError
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.common_issues import config_doctor
from snippets.debugging import network_diagnostics
from snippets.index import health_check
from snippets.performance_issues.profiler import PerformanceProfiler, percentile

LATENCY_SAMPLES: Final = 5
"""Calls timed for the latency check, uncached and cached each."""
SLOW_MS: Final = 1000.0
"""An uncached median above this is a warning."""
TOO_SLOW_MS: Final = 5000.0
"""An uncached median above this is a failure: calls time out under the client's defaults."""
LOW_HEADROOM: Final = 0.1
"""Less than this share of the rate limit left is a warning."""


def _header_number(headers: Mapping[str, str], *names: str) -> float | None:
    """The first finite number among these headers (`RateLimit-Remaining: 5, 10;w=1` is 5)."""
    for name in names:
        value = headers.get(name, "").split(",")[0].split(";")[0].strip()
        try:
            number = float(value)
        except ValueError:
            continue
        if math.isfinite(number):
            return number
    return None


async def rate_limit(ctx: CheckContext) -> Outcome:
    answer = await health_check.authenticated_health(ctx)
    if isinstance(answer, RateLimitError):
        wait = answer.retry_after
        if wait is not None and not math.isfinite(wait):
            wait = None  # `Retry-After: 1e999`: no wait worth telling
        asked = f"; the API asks to wait {wait:g} s" if wait is not None else ""
        fix = (
            f"Wait {wait:g} s; then cache prompts, batch renders and share one rate limiter "
            "between workers"
            if wait is not None
            else None
        )
        measurements = {"retry_after_seconds": wait} if wait is not None else {}
        return Outcome("failure", f"{answer}{asked}", fix, measurements)
    # Headroom, where the API says: the IETF RateLimit fields, or the older X- ones.
    remaining = _header_number(ctx.headers, "RateLimit-Remaining", "X-RateLimit-Remaining")
    limit = _header_number(ctx.headers, "RateLimit-Limit", "X-RateLimit-Limit")
    if remaining is None or not limit:
        return Outcome("ok", "not limited (the API sends no remaining count)")
    left = f"{remaining:g} of {limit:g} requests left"
    measurements = {"remaining": remaining, "limit": limit}
    if remaining < LOW_HEADROOM * limit:
        return Outcome("warning", f"{left}: close to the limit", measurements=measurements)
    return Outcome("ok", left, measurements=measurements)


async def latency(ctx: CheckContext) -> Outcome:
    if "render" not in ctx.facts:
        return Outcome("skipped", "no prompt to time")
    client, (prompt_id, variables) = await ctx.client(), ctx.facts["render"]
    profiler = PerformanceProfiler(clock=ctx.clock)
    for _ in range(LATENCY_SAMPLES):
        async with profiler.profile("uncached"):  # every render is a request
            await client.render_prompt(prompt_id, variables)
        async with profiler.profile("cached"):  # fetched by the prompt check: from the cache
            await client.get_prompt(prompt_id)
    figures = {}
    for kind in ("uncached", "cached"):
        durations = [m.duration_ms for m in profiler.measurements if m.operation == kind]
        figures[f"{kind}_p50_ms"] = round(percentile(durations, 50), 1)
        figures[f"{kind}_max_ms"] = round(max(durations), 1)
    detail = (
        f"median {figures['uncached_p50_ms']:.0f} ms, slowest {figures['uncached_max_ms']:.0f} "
        f"ms uncached; median {figures['cached_p50_ms']:.0f} ms cached "
        f"({LATENCY_SAMPLES} calls each)"
    )
    median = figures["uncached_p50_ms"]
    status: Status = "failure" if median > TOO_SLOW_MS else "warning" if median > SLOW_MS else "ok"
    if status != "ok":
        limit = TOO_SLOW_MS if status == "failure" else SLOW_MS
        detail = f"{detail}: the median is over {limit:.0f} ms"
    return Outcome(status, detail, measurements=figures)


RATE_LIMIT = Check(
    "rate-limit",
    "Rate limit",
    rate_limit,
    fix="Cache prompts, batch renders, share one rate limiter between workers; check the "
    "plan's limit",
    section="common-issues/#rate_limit_error-rate-limit-exceeded-http-429",
    what="The first call with the key is not refused with `429`; where the API sends "
    "`RateLimit-Remaining` and `RateLimit-Limit`, less than 10 % left is a warning.",
    needs=("api-key", "clock"),
)
LATENCY = Check(
    "latency",
    "Latency",
    latency,
    fix="Profile your calls (promptops-profiler); cache prompts, reuse one client",
    section="performance-issues/#measure-first-the-profiler",
    what="Five renders (each a request) and five fetches from the cache: the median and the "
    "slowest of each. An uncached median over 1 s is a warning, over 5 s a failure.",
    needs=("render",),
)

_HEALTH = {check.id: check for check in health_check.CHECKS}

CHECKS: Final[tuple[Check, ...]] = (
    *config_doctor.CHECKS,
    *network_diagnostics.CHECKS,
    *clock_skew.CHECKS,
    RATE_LIMIT,
    _HEALTH["auth"],
    _HEALTH["prompt"],
    _HEALTH["render"],
    LATENCY,
)
"""Every check the doctor runs, in order."""


async def run_doctor(
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    network: Network | None = None,
    deadline: float = DEADLINE,
    on_progress: Progress | None = None,
) -> Report:
    """Run every check in `CHECKS`, in order, within `deadline` seconds in all.

    Args:
        environ: The settings to check (`os.environ` if None): the key, the base URL, proxy
            and CA variables. The client is built from the same settings.
        clock: For durations, signatures and certificate expiry; the deadline is kept on the
            event loop's clock, as the client keeps its own (on `FakeClock.event_loop()`, the
            same fake time).
        network: How the checks reach the network below HTTP; stand-ins for tests and
            `--mock`.
        deadline: Seconds for the whole run.
        on_progress: Told (number, total, title) as each check starts.
    """
    ctx = CheckContext(
        os.environ if environ is None else environ,
        clock=clock,
        network=network,
        deadline=deadline,
        max_retries=0,  # what the API answers now, at once: a 429 is reported, not waited out
    )
    return await run_checks("doctor", CHECKS, ctx, on_progress=on_progress)
