"""Performance profiler: time (and optionally measure memory of) PromptOps
calls, then report mean, p95 and p99 per operation.

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.performance_issues.profiler
    python -m snippets.performance_issues.profiler --mock
"""

from __future__ import annotations

import math
import statistics
import sys
import tracemalloc
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from snippets.cli import run_script
from snippets.client import PromptOpsClient
from snippets.client.clock import SYSTEM_CLOCK, Clock


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always a value that was really observed, even
    for 1 sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Measurement:
    operation: str
    duration_ms: float
    success: bool
    peak_memory_kib: (
        float | None
    )  # extra Python memory allocated at the peak of the call
    metadata: dict[str, Any] = field(default_factory=dict)


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
        success = False
        try:
            yield
            success = True
        finally:
            duration_ms = (self.clock.monotonic() - start) * 1000
            peak = None
            if self.track_memory:
                peak = (tracemalloc.get_traced_memory()[1] - baseline) / 1024
            if started:
                tracemalloc.stop()
            self.measurements.append(
                Measurement(operation, duration_ms, success, peak, metadata)
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
                f"{s['mean_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms"
                f"{s['p99_ms']:>8.1f}ms"
            )
        peaks = [
            m.peak_memory_kib
            for m in self.measurements
            if m.peak_memory_kib is not None
        ]
        if peaks:
            print(f"peak memory per call: max {max(peaks):.0f} KiB")


async def performance_test(
    client: PromptOpsClient,
    profiler: PerformanceProfiler,
    *,
    iterations: int = 10,
    prompt_ids: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Fetch and render each prompt `iterations` times, profiling each call.

    The prompts are `prompt_ids`, else every prompt the key lists; each is
    rendered with its own variables (their names, from the prompt).
    """
    if prompt_ids is None:
        prompt_ids = await client.list_prompts()
    total, done = iterations * len(prompt_ids) * 2, 0
    for _ in range(iterations):
        for prompt_id in prompt_ids:
            async with profiler.profile("get_prompt", prompt_id=prompt_id):
                prompt = await client.get_prompt(prompt_id)
            variables = dict.fromkeys(prompt.variables, "profiler")
            async with profiler.profile("render_prompt", prompt_id=prompt_id):
                await client.render_prompt(prompt_id, variables)
            done += 2
            if on_progress:
                on_progress(done, total)


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


async def profile_prompts() -> int:
    """Profile every prompt the key lists, through one client, and print the
    report."""
    profiler = PerformanceProfiler()
    async with PromptOpsClient() as client:
        await performance_test(client, profiler, on_progress=show_progress)
    profiler.print_report()
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_script("profiler", profile_prompts, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
