"""The doctor's report for every `--mock` scenario (`snippets.scenarios.MOCK_SCENARIOS`), as the
command prints it: what each scenario finds, the layout a reader gets, colour, and the numbers
for monitoring. (Every check tool's `--json`, the doctor's included, is validated against its
schema in tests/test_report_schema.py.)"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine

from snippets import cli, doctor
from snippets.checks import MARKS, TITLE_WIDTH, CheckContext, Report, run_checks
from snippets.client.clock import FakeClock
from snippets.doctor import CHECKS
from snippets.scenarios import HEALTHY, MOCK_SCENARIOS

from ..scenarios import each_scenario
from .helpers import by_id, statuses

SKIPPED_AFTER = {  # every check after this one, skipped
    check.id: {later.id: "skipped" for later in CHECKS[n + 1 :]} for n, check in enumerate(CHECKS)
}

AUTH_FAILS = {"auth": "failure", "prompt": "skipped", "render": "skipped", "latency": "skipped"}
PUBLIC_HEALTH_FAILS = {"public-health": "failure", **SKIPPED_AFTER["public-health"]}

# What each scenario finds: the checks that do not end ok, and the exit code.
EXPECTED: dict[str, tuple[dict[str, str], int]] = {
    "healthy": ({}, 0),
    "wrong-key": (AUTH_FAILS, 2),
    "auth-key-revoked": (AUTH_FAILS, 2),
    "key-rotation": ({}, 0),  # the current key still works
    "deployed-with-the-staging-key": (AUTH_FAILS, 2),
    "clock-skew": ({"clock": "failure", **SKIPPED_AFTER["clock"]}, 2),
    "rate-limited": ({"rate-limit": "failure", **SKIPPED_AFTER["rate-limit"]}, 2),
    # The doctor does not retry: what fails once fails its first call, the public health GET.
    "rate-limited-once": (PUBLIC_HEALTH_FAILS, 2),
    "rate-limited-2s": (PUBLIC_HEALTH_FAILS, 2),
    "rate-limited-in-the-body-only": (PUBLIC_HEALTH_FAILS, 2),
    "rate-limited-without-retry-after": (PUBLIC_HEALTH_FAILS, 2),
    "quota-10-a-second": ({}, 0),  # the doctor's calls fit in it
    # The latency check's calls go past the key's quota, without retries.
    "busy-key": ({"latency": "failure"}, 2),
    "quota-exhausted": (PUBLIC_HEALTH_FAILS, 2),
    "server-error": (PUBLIC_HEALTH_FAILS, 2),
    "server-error-once": (PUBLIC_HEALTH_FAILS, 2),
    "server-error-500": (PUBLIC_HEALTH_FAILS, 2),
    "server-error-502": (PUBLIC_HEALTH_FAILS, 2),
    "api-errors-503-then-retry-after": (PUBLIC_HEALTH_FAILS, 2),
    "gateway-timeout": (PUBLIC_HEALTH_FAILS, 2),
    "slow-api": ({"latency": "warning"}, 1),
    "latency-50ms": ({}, 0),
    "trickling": (PUBLIC_HEALTH_FAILS, 2),
    # Only the prompts' own paths hang: the doctor, which does not retry, runs out of time on
    # the first fetch of one, once or for good.
    "hanging": ({"prompt": "failure", "render": "skipped", "latency": "skipped"}, 2),
    "hangs-once": ({"prompt": "failure", "render": "skipped", "latency": "skipped"}, 2),
    "read-timeout": (PUBLIC_HEALTH_FAILS, 2),
    "dns-failure": ({"dns": "failure", **SKIPPED_AFTER["dns"]}, 2),
    "tls-failure": ({"tls": "failure", **SKIPPED_AFTER["tls"]}, 2),
    "connection-refused": (PUBLIC_HEALTH_FAILS, 2),
    "connect-timeout": (PUBLIC_HEALTH_FAILS, 2),
    "localhost-in-a-container": ({}, 0),  # the doctor asks the API, not localhost:8080
    "proxy-403": (
        {
            "api-paths": "failure",
            "auth": "failure",
            "prompt": "skipped",
            "render": "skipped",
            "latency": "skipped",
        },
        2,
    ),
    "proxy-error-page": (PUBLIC_HEALTH_FAILS, 2),
    "truncated-json": (PUBLIC_HEALTH_FAILS, 2),
    "malformed-json": (PUBLIC_HEALTH_FAILS, 2),
    "json-as-text-plain": (PUBLIC_HEALTH_FAILS, 2),
    # The API works: the mistake is a call's, which the doctor does not make.
    "unknown-prompt": ({}, 0),
    "missing-variable": ({}, 0),
}


@dataclass(frozen=True)
class Run:
    report: Report
    printed: str
    """What the command printed on stdout."""
    exit_code: int
    on_its_clock: bool
    """Whether the checks ran on an event loop whose time is the simulation's fake clock, from
    the first check to the last."""
    fake_seconds: float
    """What that clock moved while the checks ran: the simulated waits and deadline, and the
    few milliseconds the real sockets of the TCP and TLS checks took."""


def run_mock(scenario: str) -> Run:
    """`promptops-doctor --mock SCENARIO`, its output and the report it printed."""
    found: list[tuple[Report, bool, float]] = []

    async def keeping_the_report(
        tool: str, checks: Any, ctx: CheckContext, **kwargs: Any
    ) -> Report:
        loop, clock = asyncio.get_running_loop(), ctx.clock
        assert isinstance(clock, FakeClock)
        started = clock.monotonic()
        on_its_clock = loop.time() == started
        report = await run_checks(tool, checks, ctx, **kwargs)
        on_its_clock = on_its_clock and loop.time() == clock.monotonic()
        found.append((report, on_its_clock, clock.monotonic() - started))
        return report

    out = io.StringIO()
    # As on the pages: wall-clock time stopped at the docs' instant (FakeClock's start), so
    # that certificate days and whole seconds of clock skew come out the same every run.
    with (
        pytest.MonkeyPatch.context() as patch,
        time_machine.travel(FakeClock().time(), tick=False),
        redirect_stdout(out),
        redirect_stderr(io.StringIO()),
    ):
        patch.setattr(cli, "run_checks", keeping_the_report)
        patch.delenv("PROMPTOPS_BASE_URL", raising=False)  # --mock answers where it points
        exit_code = doctor.main(["--mock", scenario])
    ((report, on_its_clock, fake_seconds),) = found
    return Run(report, out.getvalue(), exit_code, on_its_clock, fake_seconds)


@pytest.fixture(scope="module")
def mock_run() -> Iterator[Callable[[str], Run]]:
    """Each scenario's run, once for the module. A fixture, not a module-level cache: every
    pytest session runs its own, mutation testing's included (its sessions share the
    modules the first one imported)."""
    runs: dict[str, Run] = {}

    def run(scenario: str) -> Run:
        if scenario not in runs:
            runs[scenario] = run_mock(scenario)
        return runs[scenario]

    yield run


def test_every_scenario_has_its_expectations() -> None:
    missing = [name for name in MOCK_SCENARIOS if name not in EXPECTED]
    assert not missing, f"rows of MOCK_SCENARIOS without their doctor report in EXPECTED: {missing}"
    assert list(EXPECTED) == list(MOCK_SCENARIOS)  # in the table's order, none left over
    assert HEALTHY in MOCK_SCENARIOS  # what --mock alone runs


@pytest.mark.parametrize("scenario", each_scenario())
def test_each_scenario_finds_its_failure_and_skips_what_follows(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    run = mock_run(scenario)
    expected, exit_code = EXPECTED[scenario]
    assert statuses(run.report) == expected
    assert run.report.exit_code == run.exit_code == exit_code


@pytest.mark.parametrize("scenario", each_scenario())
def test_a_mock_run_keeps_the_simulation_s_fake_time(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    """On fake time: the trickling API's 30 s deadline and the slow API's 1.2 s per request
    are the simulation's clock's seconds, which the run's event loop keeps, so they take no
    real time on any machine. (Its durations are the simulated ones exactly: see
    `test_measurements_for_monitoring`.)"""
    assert mock_run(scenario).on_its_clock


def test_a_mock_run_reaches_its_deadline_on_fake_time(mock_run: Callable[[str], Run]) -> None:
    """The trickling API's run ends at the 30 s deadline's instant: the loop jumped to it. Had
    it waited for it in real time, it would have woken late, past 30 s."""
    assert mock_run("trickling").fake_seconds == pytest.approx(30, abs=1e-9)
    assert mock_run("slow-api").fake_seconds >= 5 * 1.2  # the latency check's renders alone


@pytest.mark.matrix  # the doctor in every scenario
def test_only_the_scenarios_of_a_silent_api_run_out_of_time(mock_run: Callable[[str], Run]) -> None:
    cut = {name: [f.id for f in mock_run(name).report.ran_out_of_time] for name in MOCK_SCENARIOS}
    assert {name: ids for name, ids in cut.items() if ids} == {
        "trickling": ["public-health"],
        "hanging": ["prompt"],
        "hangs-once": ["prompt"],  # the doctor reports what answers now: no retry
    }


@pytest.mark.parametrize("scenario", each_scenario())
def test_the_report_says_the_api_was_simulated_and_which_scenario_it_played(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    run = mock_run(scenario)
    assert run.printed.splitlines()[0] == (
        f"PromptOps doctor: https://api.promptops.com (simulated API: --mock {scenario})"
    )
    assert run.report.simulated == scenario
    assert run.report.as_json()["simulated"] == {"scenario": scenario}


@pytest.mark.parametrize("scenario", each_scenario())
def test_under_mock_the_key_check_names_the_mock_s_key_not_the_variable(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    api_key = by_id(mock_run(scenario).report)["api-key"]
    assert (api_key.status, api_key.detail) == ("ok", "the mock API's key, set by --mock")
    assert "PROMPTOPS_API_KEY" not in api_key.detail


@pytest.mark.parametrize("scenario", each_scenario())
def test_the_text_report_has_one_aligned_line_per_check_and_fix_and_link_under_problems(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    run = mock_run(scenario)
    report = run.report
    lines = run.printed.splitlines()
    assert lines == report.text()  # printed as the checks ran: the same as at the end
    assert lines[-1] == report.summary()
    assert max(len(check.title) for check in CHECKS) <= TITLE_WIDTH
    body = iter(lines[1:-1])
    for finding in report.findings:
        line = next(body)
        assert (
            line == f"{MARKS[finding.status]:<4}  {finding.title:<{TITLE_WIDTH}}  {finding.detail}"
        )
        if finding.status in ("warning", "failure"):
            indent = " " * (6 + TITLE_WIDTH + 2)  # under the detail
            assert next(body) == f"{indent}fix: {finding.fix}"
            assert next(body) == f"{indent}see: {finding.link}"
    assert next(body, None) is None
    for line in lines:
        assert line.isprintable(), line  # no colour, no control character


@pytest.mark.parametrize("scenario", each_scenario())
def test_the_summary_counts_each_status(scenario: str, mock_run: Callable[[str], Run]) -> None:
    report = mock_run(scenario).report
    counts = report.counts
    assert sum(counts.values()) == len(CHECKS)
    summary = report.summary()
    assert summary.startswith(f"{counts['ok']} ok, {counts['warning']} warning")
    assert f"{counts['skipped']} skipped" in summary


def test_the_summary_reads_as_the_issue_asks(mock_run: Callable[[str], Run]) -> None:
    assert mock_run("healthy").report.summary() == "15 ok, 0 warnings, 0 failures, 0 skipped"
    assert mock_run("wrong-key").report.summary() == "11 ok, 0 warnings, 1 failure, 3 skipped"
    assert mock_run("slow-api").report.summary() == "14 ok, 1 warning, 0 failures, 0 skipped"
    assert mock_run("trickling").report.summary() == (
        "7 ok, 0 warnings, 1 failure, 7 skipped; ran out of time (30 s deadline): Public health"
    )


def test_each_scenario_s_finding_word_for_word(mock_run: Callable[[str], Run]) -> None:
    """What a reader of the Debugging page sees for each scenario."""
    found = {
        scenario: (by_id(mock_run(scenario).report)[check].detail)
        for scenario, check in [
            ("wrong-key", "auth"),
            ("clock-skew", "clock"),
            ("rate-limited", "rate-limit"),
            ("proxy-403", "api-paths"),
            ("dns-failure", "dns"),
            ("tls-failure", "tls"),
            ("slow-api", "latency"),
            ("server-error", "public-health"),
            ("trickling", "public-health"),
        ]
    }
    assert found == {
        "wrong-key": "AUTHENTICATION_ERROR: Invalid API key or signature",
        "clock-skew": "clock 420 s ahead of the server, over the 300 s window: every request is "
        "rejected",
        "rate-limited": "RATE_LIMIT_ERROR: Rate limit exceeded; the API asks to wait 60 s",
        "proxy-403": "GET /v1/client/health: HTTP 403, not a PromptOps answer (text/html): "
        "blocked on the way?",
        "dns-failure": "api.promptops.com does not resolve: [Errno -2] Name or service not known",
        "tls-failure": "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate",
        "slow-api": "median 1200 ms, slowest 1200 ms uncached; median 0 ms cached (5 calls "
        "each): the median is over 1000 ms",
        "server-error": "GET /v1/health: HTTP 503 in 35 ms: the API failed (SERVER_ERROR)",
        "trickling": "ran out of time: no result within the 30 s deadline",
    }
    tls = by_id(mock_run("healthy").report)["tls"]
    assert tls.detail == (
        "api.promptops.com, issued by PromptOps Mock CA, expires 2099-12-31 (27027 days left)"
    )


def test_colour_marks_the_words_and_takes_nothing_away(mock_run: Callable[[str], Run]) -> None:
    report = mock_run("slow-api").report
    coloured = report.text(colour=True)
    assert "\x1b[33mwarn\x1b[0m  Latency" in "\n".join(coloured)
    assert "\x1b[32mok  \x1b[0m  API key" in coloured[1]
    assert coloured[0] == report.header()  # the header and the summary are not coloured
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in coloured]
    assert plain == report.text()


def test_failures_are_bold_red_and_skips_dim(mock_run: Callable[[str], Run]) -> None:
    coloured = "\n".join(mock_run("wrong-key").report.text(colour=True))
    assert "\x1b[1;31mFAIL\x1b[0m  Authenticated health" in coloured
    assert "\x1b[2mskip\x1b[0m  Prompt retrieval" in coloured


def test_measurements_for_monitoring(mock_run: Callable[[str], Run]) -> None:
    latency = by_id(mock_run("slow-api").report)["latency"]
    assert latency.measurements == {
        "uncached_p50_ms": 1200.0,
        "uncached_max_ms": 1200.0,
        "cached_p50_ms": 0.0,
        "cached_max_ms": 0.0,
    }
    clock = by_id(mock_run("clock-skew").report)["clock"]
    assert clock.measurements == {"offset_seconds": 420}
    limited = by_id(mock_run("rate-limited").report)["rate-limit"]
    assert limited.measurements == {"retry_after_seconds": 60}
    healthy = mock_run("healthy").report
    measured = {f.id: sorted(f.measurements) for f in healthy.findings if f.measurements}
    assert measured == {
        "clock": ["offset_seconds"],
        "latency": ["cached_max_ms", "cached_p50_ms", "uncached_max_ms", "uncached_p50_ms"],
    }
