"""The performance profiler (snippets/performance_issues/profiler.py), with fake time."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import tracemalloc

import pytest

from snippets.client import PromptOpsClient
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.performance_issues import profiler as profiler_module
from snippets.performance_issues.profiler import (
    Measurement,
    PerformanceProfiler,
    percentile,
    performance_test,
    show_progress,
)


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([7.0], 95, 7.0),  # the seed returned 0 for a single sample
        ([1.0, 2.0], 95, 2.0),
        ([1.0, 2.0], 50, 1.0),
        ([float(v) for v in range(1, 101)], 95, 95.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([5.0, 1.0, 3.0], 99, 5.0),
        ([float(v) for v in range(1, 1001)], 50, 500.0),
    ],
)
def test_nearest_rank_percentile(values: list[float], pct: float, expected: float) -> None:
    assert percentile(values, pct) == expected


def test_the_summary_s_p95_and_p99_are_those_ranks() -> None:
    profiler = PerformanceProfiler(clock=FakeClock())
    profiler.measurements = [Measurement("op", float(ms), True, None) for ms in range(1, 101)]
    op = profiler.summary()["op"]
    assert (op["p95_ms"], op["p99_ms"], op["mean_ms"]) == (95.0, 99.0, 50.5)


def test_report_under_simulated_latency(
    mock_api: MockPromptOpsAPI, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    mock_api.simulate_latency(0.050)
    progress: list[tuple[int, int]] = []
    profiler = PerformanceProfiler(clock=mock_api.clock)

    async def main() -> None:
        async with PromptOpsClient(clock=clock) as client:
            await performance_test(
                client, profiler, iterations=2, on_progress=lambda d, t: progress.append((d, t))
            )

    asyncio.run(main())
    summary = profiler.summary()
    # 3 cache misses at 35 ms, 3 hits at 0 ms; every render is a request.
    assert summary["get_prompt"] == {
        "count": 6,
        "success_rate": 1.0,
        "mean_ms": pytest.approx(25.0),
        "p95_ms": pytest.approx(50.0),
        "p99_ms": pytest.approx(50.0),
    }
    assert summary["render_prompt"]["mean_ms"] == pytest.approx(50.0)
    assert summary["all"]["count"] == 12
    assert progress == [(2, 12), (4, 12), (6, 12), (8, 12), (10, 12), (12, 12)]
    profiler.print_report()
    assert capsys.readouterr().out.splitlines()[-1].startswith("all")


def test_failures_are_recorded_and_reraised(mock_api: MockPromptOpsAPI) -> None:
    profiler = PerformanceProfiler(clock=mock_api.clock)

    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client, profiler.profile("get_prompt"):
            await client.get_prompt("missing")

    with pytest.raises(Exception, match="PROMPT_NOT_FOUND"):
        asyncio.run(main())
    assert profiler.summary()["get_prompt"]["success_rate"] == 0.0


def test_memory_is_the_extra_memory_allocated_during_the_call(
    clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    profiler = PerformanceProfiler(track_memory=True, clock=clock)

    async def main() -> None:
        async with profiler.profile("allocate"):
            block = bytearray(2 * 1024 * 1024)
            del block
        async with profiler.profile("idle"):
            pass

    asyncio.run(main())
    allocate, idle = profiler.measurements
    assert allocate.peak_memory_kib is not None and allocate.peak_memory_kib > 2000  # 2 MiB
    assert idle.peak_memory_kib is not None and idle.peak_memory_kib < 64
    profiler.print_report()
    last = capsys.readouterr().out.splitlines()[-1]
    assert re.fullmatch(r"peak memory per call: max (\d+) KiB", last)
    assert 2000 < int(last.split()[-2]) < 2200


def test_memory_tracking_stops_the_tracing_it_started() -> None:
    """tracemalloc left on makes the rest of the program several times slower."""
    profiler = PerformanceProfiler(track_memory=True, clock=FakeClock())

    async def main() -> None:
        async with profiler.profile("call"):
            assert tracemalloc.is_tracing()

    asyncio.run(main())
    assert not tracemalloc.is_tracing()


def test_memory_tracking_leaves_tracing_the_program_started_on() -> None:
    profiler = PerformanceProfiler(track_memory=True, clock=FakeClock())

    async def main() -> None:
        async with profiler.profile("call"):
            pass

    tracemalloc.start()
    try:
        asyncio.run(main())
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_rewritten_on_a_terminal_and_silent_in_a_log() -> None:
    terminal, log = _Terminal(), io.StringIO()
    for done in (2, 4):
        show_progress(done, 4, terminal)
        show_progress(done, 4, log)
    assert terminal.getvalue() == "\rprofiling: 2/4 calls\rprofiling: 4/4 calls\n"
    assert log.getvalue() == ""


def test_empty_profiler_has_an_empty_summary() -> None:
    assert PerformanceProfiler(clock=FakeClock()).summary() == {}


def test_command_line_mock_run_is_deterministic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert profiler_module.main(["--mock"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1].split() == [
        "all",
        "60",
        "100%",
        "19.2ms",  # 30 renders and the 3 first fetches at 35 ms, 27 fetches from the cache
        "35.0ms",
        "35.0ms",
    ]
    assert captured.err == ""  # not a terminal: no progress fragments in the log


def test_the_command_shows_its_progress_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert profiler_module.main(["--mock"]) == 0
    steps = terminal.getvalue().split("\r")[1:]
    assert steps[0] == "profiling: 2/60 calls"
    assert steps[-1] == "profiling: 60/60 calls\n"
    assert len(steps) == 30
    assert "profiling" not in capsys.readouterr().out  # stdout holds the report alone


def test_each_measurement_names_its_prompt(mock_api: MockPromptOpsAPI) -> None:
    """`prompt_id` travels with each measurement: a slow prompt can be told from the rest."""

    async def main() -> PerformanceProfiler:
        profiler = PerformanceProfiler(clock=mock_api.clock)
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await performance_test(client, profiler, iterations=1)
        return profiler

    profiler = asyncio.run(main())
    assert [(m.operation, m.metadata) for m in profiler.measurements[:2]] == [
        ("get_prompt", {"prompt_id": "hello-world"}),
        ("render_prompt", {"prompt_id": "hello-world"}),
    ]
    assert {m.metadata["prompt_id"] for m in profiler.measurements} == {
        "hello-world",
        "welcome-message",
        "customer-service",
    }


def test_without_ids_it_profiles_the_prompts_the_key_lists_each_with_its_variables(
    mock_api: MockPromptOpsAPI,
) -> None:
    """A workspace whose prompts are not the mock's: the profiler assumes none of them."""
    mock_api.prompts = {
        "greeting": {"name": "Greeting", "template": "Hi {{first}} {{last}}", "version": 1},
        "static": {"name": "Static", "template": "No variables", "version": 4},
    }

    async def main() -> PerformanceProfiler:
        profiler = PerformanceProfiler(clock=mock_api.clock)
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await performance_test(client, profiler, iterations=2)
        return profiler

    profiler = asyncio.run(main())
    assert all(m.success for m in profiler.measurements)
    assert [m.metadata["prompt_id"] for m in profiler.measurements[:4]] == [
        "greeting",
        "greeting",
        "static",
        "static",
    ]
    renders = [
        json.loads(request.content)["variables"]
        for request in mock_api.requests
        if request.url.path.endswith("/render")
    ]
    assert renders == [{"first": "profiler", "last": "profiler"}, {}] * 2
    listed = [r for r in mock_api.requests if r.url.path == "/v1/client/prompts"]
    assert len(listed) == 1
