"""Performance profiler: time PromptOps calls (and optionally their memory),
then report mean, p95 and p99 per operation, and where the time went:
requests sent, cache hits, retries and their waits, failed calls.

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    promptops-profiler
    promptops-profiler --mock
    promptops-profiler --mock SCENARIO --iterations 1
    promptops-profiler --rate-limit 600/60

--iterations N    rounds of fetching and rendering each prompt (default 10)
--rate-limit N/S  share one RateLimiter of N requests per S seconds
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from snippets.cli import run_script
from snippets.client import (
    RETRYABLE_ERRORS,
    NetworkError,
    PromptOpsClient,
    RateLimiter,
)
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.performance_issues.retry_waits import watch_retries


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always a value that was really observed, even
    for 1 sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def duration(ms: float) -> str:
    """35.0ms, or 3.5s from 1 s up."""
    return f"{ms:.1f}ms" if ms < 1000 else f"{ms / 1000:.1f}s"


@dataclass
class Measurement:
    operation: str
    duration_ms: float
    success: bool
    peak_memory_kib: (
        float | None
    )  # extra Python memory allocated at the peak of the call
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # what the call raised, if it failed


class PerformanceProfiler:
    """Collects one `Measurement` per profiled call."""

    def __init__(
        self, *, clock: Clock = SYSTEM_CLOCK, track_memory: bool = False
    ) -> None:
        self.clock = clock
        self.track_memory = (
            track_memory  # tracemalloc slows Python down: opt in
        )
        self.measurements: list[Measurement] = []

    @asynccontextmanager
    async def profile(
        self, operation: str, **metadata: Any
    ) -> AsyncIterator[None]:
        # Tracing slows all of Python: only during the call, unless on before.
        started = self.track_memory and not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        if self.track_memory:
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
        start = self.clock.monotonic()
        success, error = False, None
        try:
            yield
            success = True
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            duration_ms = (self.clock.monotonic() - start) * 1000
            peak = None
            if self.track_memory:
                peak = (tracemalloc.get_traced_memory()[1] - baseline) / 1024
            if started:
                tracemalloc.stop()
            self.measurements.append(
                Measurement(
                    operation, duration_ms, success, peak, metadata, error
                )
            )

    def summary(self) -> dict[str, dict[str, float]]:
        """Per operation, and for "all": count, success rate, mean, p95 and p99
        in ms."""
        groups: dict[str, list[Measurement]] = defaultdict(list)
        for m in self.measurements:
            groups[m.operation].append(m)
        if self.measurements:
            groups["all"] = self.measurements
        return {
            name: {
                "count": len(ms),
                "success_rate": sum(m.success for m in ms) / len(ms),
                "mean_ms": statistics.fmean(m.duration_ms for m in ms),
                "p95_ms": percentile([m.duration_ms for m in ms], 95),
                "p99_ms": percentile([m.duration_ms for m in ms], 99),
            }
            for name, ms in groups.items()
        }

    def print_report(self) -> None:
        print(
            f"{'operation':<14}{'count':>6}{'success':>9}"
            f"{'mean':>10}{'p95':>10}{'p99':>10}"
        )
        for name, s in self.summary().items():
            print(
                f"{name:<14}{s['count']:>6}{s['success_rate']:>9.0%}"
                f"{duration(s['mean_ms']):>10}{duration(s['p95_ms']):>10}"
                f"{duration(s['p99_ms']):>10}"
            )
        peaks = [
            m.peak_memory_kib
            for m in self.measurements
            if m.peak_memory_kib is not None
        ]
        if peaks:
            print(f"peak memory per call: max {max(peaks):.0f} KiB")
        failed = [m.error for m in self.measurements if m.error is not None]
        if failed:
            codes = Counter(error.split(":")[0] for error in failed)
            counts = ", ".join(f"{n} {code}" for code, n in codes.items())
            print(f"failed: {counts}; the first: {failed[0]}")


FAILURES_IN_A_ROW = 3
"""Calls that may fail in a row before a run stops: the API is down."""


async def performance_test(
    client: PromptOpsClient,
    profiler: PerformanceProfiler,
    *,
    iterations: int = 10,
    prompt_ids: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Fetch and render each prompt `iterations` times, profiling each call.
    True if every call ran; False if the run stopped early.

    The prompts are `prompt_ids`, else every prompt the key lists; each is
    rendered with its own variables (their names, from the prompt).

    A call that fails with an outage (an error the client retried, that
    lasted) is recorded and the run goes on, until `FAILURES_IN_A_ROW` calls
    in a row have failed. A mistake (a wrong key or prompt id, a certificate
    that does not verify) ends it at once: every call would fail."""
    if prompt_ids is None:
        prompt_ids = await client.list_prompts()
    variables: dict[str, dict[str, str]] = {}  # each prompt's, once fetched

    async def one_call(operation: str, prompt_id: str) -> bool:
        """Profile one call; True if it succeeded."""
        with outages_recorded():
            async with profiler.profile(operation, prompt_id=prompt_id):
                if operation == "get_prompt":
                    prompt = await client.get_prompt(prompt_id)
                    names = prompt.variables
                    variables[prompt_id] = dict.fromkeys(names, "profiler")
                else:
                    given = variables.get(prompt_id, {})
                    await client.render_prompt(prompt_id, given)
            return True
        return False

    total, done, failed_in_a_row = iterations * len(prompt_ids) * 2, 0, 0
    for _ in range(iterations):
        for prompt_id in prompt_ids:
            for operation in ("get_prompt", "render_prompt"):
                succeeded = await one_call(operation, prompt_id)
                failed_in_a_row = 0 if succeeded else failed_in_a_row + 1
                if failed_in_a_row >= FAILURES_IN_A_ROW:
                    return False
            done += 2
            if on_progress:
                on_progress(done, total)
    return True


@contextlib.contextmanager
def outages_recorded() -> Iterator[None]:
    """Let an outage pass (the profiler recorded it); raise anything else."""
    try:
        yield
    except RETRYABLE_ERRORS as exc:
        if isinstance(exc, NetworkError) and exc.permanent:
            raise


def show_progress(done: int, total: int, stream: TextIO | None = None) -> None:
    """Progress on stderr, so that stdout holds only the report; one line
    rewritten in place on a terminal, nothing in a log (a CI log would get a
    fragment per call)."""
    stream = (
        stream or sys.stderr
    )  # looked up now: sys.stderr may have been replaced
    if not stream.isatty():
        return
    stream.write(f"\rprofiling: {done}/{total} calls")
    if done == total:
        stream.write("\n")
    stream.flush()


async def profile_prompts(
    iterations: int = 10, rate_limiter: RateLimiter | None = None
) -> int:
    """Profile every prompt the key lists, through one client, and print the
    report: exit code 0, or 2 if a call failed."""
    profiler = PerformanceProfiler()
    sent = 0

    async def count(request: httpx.Request) -> None:
        nonlocal sent
        sent += 1

    hooks = {"request": [count]}
    client = PromptOpsClient(rate_limiter=rate_limiter, event_hooks=hooks)
    with watch_retries() as retries:
        async with client:
            finished = await performance_test(
                client,
                profiler,
                iterations=iterations,
                on_progress=show_progress,
            )
    profiler.print_report()
    if not finished:
        print(f"stopped: {FAILURES_IN_A_ROW} calls in a row failed")
    calls = len(profiler.measurements)
    hit_rate = client.get_cache_stats()["hit_rate"]
    print(
        f"requests: {sent} for {calls} calls (cache hit rate {hit_rate:.0%})"
    )
    causes = [
        f"{n} after {code}, {waited:.1f} s waiting"
        for code, (n, waited) in retries.by_cause().items()
    ]
    print(f"retries: {'; '.join(causes) or 'none'}")
    return 2 if any(not m.success for m in profiler.measurements) else 0


def rate(text: str) -> RateLimiter:
    """`600/60` -> RateLimiter(600, per=60)."""
    limit, _, per = text.partition("/")
    try:
        return RateLimiter(int(limit), per=float(per or 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not N/SECONDS, such as 600/60: {text!r}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(
        prog="promptops-profiler", add_help=False
    )
    options.add_argument("--iterations", type=int, default=10)
    options.add_argument("--rate-limit", type=rate, default=None)
    own, rest = options.parse_known_args(argv)
    if own.iterations < 1:
        options.error(f"--iterations must be at least 1, got {own.iterations}")

    def profile() -> Any:
        return profile_prompts(own.iterations, own.rate_limit)

    return run_script("profiler", profile, __doc__, rest)


if __name__ == "__main__":
    sys.exit(main())
