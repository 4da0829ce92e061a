"""The performance profiler (snippets/performance_issues/profiler.py), with fake time."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import tracemalloc

import httpx
import pytest

from snippets.client import NetworkError, PromptOpsClient
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.performance_issues import profiler as profiler_module
from snippets.performance_issues.profiler import (
    Measurement,
    PerformanceProfiler,
    duration,
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
    *_, total, requests, retries = captured.out.splitlines()
    assert total.split() == [
        "all",
        "60",
        "100%",
        "19.2ms",  # 30 renders and the 3 first fetches at 35 ms, 27 fetches from the cache
        "35.0ms",
        "35.0ms",
    ]
    assert requests == "requests: 34 for 60 calls (cache hit rate 90%)"
    assert retries == "retries: none"
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


def mock_run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, str], str]:
    """`promptops-profiler ARGS`: its exit code, its lines by first word, and stderr."""
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    code = profiler_module.main(args)
    captured = capsys.readouterr()
    lines = {line.split()[0].rstrip(":"): line for line in captured.out.splitlines()}
    return code, lines, captured.err


def p95_seconds(line: str) -> float:
    value = line.split()[4]
    return float(value[:-2]) / 1000 if value.endswith("ms") else float(value[:-1])


def test_429s_the_client_absorbs_show_as_a_slow_p95_and_as_retries(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The performance page's proof: a key other workers share (4 requests in any 3 s)."""
    code, lines, _ = mock_run(["--mock", "busy-key"], monkeypatch, capsys)
    assert code == 0
    assert lines["all"].split()[2] == "100%"  # no error: every 429 was waited out
    assert p95_seconds(lines["all"]) > 3.0
    assert lines["retries"].startswith("retries: 8 after RATE_LIMIT_ERROR, ")
    assert lines["requests"] == "requests: 42 for 60 calls (cache hit rate 90%)"


def test_a_shared_limiter_at_the_quota_removes_the_429s_and_the_slow_p95(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = mock_run(["--mock", "busy-key", "--rate-limit", "4/3"], monkeypatch, capsys)
    assert code == 0
    assert lines["retries"] == "retries: none"
    assert p95_seconds(lines["all"]) <= 1.1
    assert lines["requests"] == "requests: 34 for 60 calls (cache hit rate 90%)"


def test_an_attempt_that_hangs_is_retried_and_shows_in_the_p99(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = mock_run(["--mock", "hangs-once"], monkeypatch, capsys)
    assert code == 0
    p99 = lines["all"].split()[-1]  # its share of the deadline, a backoff, then a retry
    assert p99.endswith("s") and 10.3 <= float(p99[:-1]) <= 10.6, p99
    assert lines["retries"].startswith("retries: 1 after TIMEOUT_ERROR, ")


def test_after_three_calls_in_a_row_fail_the_run_stops(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = mock_run(["--mock", "hanging"], monkeypatch, capsys)
    assert code == 2
    assert lines["all"].split() == ["all", "3", "0%", "30.0s", "30.0s", "30.0s"]
    assert lines["failed"] == (
        "failed: 3 TIMEOUT_ERROR; the first: TIMEOUT_ERROR: GET /v1/client/prompts/hello-world: "
        "no answer within the 30 s deadline (3 attempts; the last timed out waiting for the "
        "answer)"
    )
    assert lines["stopped"] == "stopped: 3 calls in a row failed"
    assert lines["requests"] == "requests: 10 for 3 calls (cache hit rate 0%)"


def test_calls_that_fail_now_and_then_are_counted_and_the_run_goes_on(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outage on one prompt's renders only: two calls in a row fail at most."""
    mock_api.server_error(times=99, path="/v1/client/prompts/welcome-message/render")
    profiler = PerformanceProfiler(clock=mock_api.clock)

    async def main() -> bool:
        async with PromptOpsClient(clock=mock_api.clock, max_retries=0) as client:
            return await performance_test(client, profiler, iterations=3)

    assert asyncio.run(main()) is True
    assert len(profiler.measurements) == 18
    failed = [m for m in profiler.measurements if not m.success]
    assert [m.metadata["prompt_id"] for m in failed] == ["welcome-message"] * 3
    profiler.print_report()
    assert "failed: 3 SERVER_ERROR; the first: SERVER_ERROR: The server is temporarily " in (
        capsys.readouterr().out
    )


def test_a_permanent_network_error_ends_the_run_as_a_mistake() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise NetworkError("certificate verify failed", permanent=True)

    async def main() -> None:
        transport = httpx.MockTransport(refuse)
        async with PromptOpsClient("po_x", transport=transport, clock=FakeClock()) as client:
            await performance_test(client, PerformanceProfiler(clock=FakeClock()))

    with pytest.raises(NetworkError):
        asyncio.run(main())


def test_a_mistake_ends_the_run_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = mock_run(["--mock", "wrong-key"], monkeypatch, capsys)
    assert (code, lines) == (2, {})
    assert err == "promptops-profiler: AUTHENTICATION_ERROR: Invalid API key or signature\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iterations", "0"], "--iterations must be at least 1, got 0"),
        (["--rate-limit", "fast"], "not N/SECONDS, such as 600/60: 'fast'"),
        (["--rate-limit", "0/60"], "not N/SECONDS, such as 600/60: '0/60'"),
    ],
)
def test_a_bad_option_is_a_usage_error(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        profiler_module.main(["--mock", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_profiler_records_what_a_failed_call_raised(clock: FakeClock) -> None:
    profiler = PerformanceProfiler(clock=clock)

    async def main() -> None:
        async with profiler.profile("call"):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        asyncio.run(main())
    (measurement,) = profiler.measurements
    assert (measurement.success, measurement.error) == (False, "boom")


@pytest.mark.parametrize(
    ("ms", "shown"), [(35.0, "35.0ms"), (999.94, "999.9ms"), (1000.0, "1.0s"), (30000, "30.0s")]
)
def test_durations_from_a_second_up_are_in_seconds(ms: float, shown: str) -> None:
    assert duration(ms) == shown
