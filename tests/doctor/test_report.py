"""The doctor's report for every `--mock` scenario (snippets/offline.py `MOCK_SCENARIOS`), as
text and as JSON: what each scenario finds, the layout a reader gets, and the JSON against
its schema, docs/reference/doctor.schema.json."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jsonschema
import pytest
import time_machine

from snippets.client.clock import Clock, FakeClock
from snippets.doctor import CHECKS, SCHEMA_VERSION, Network, Report, run_doctor
from snippets.doctor.report import MARKS
from snippets.offline import MOCK_SCENARIOS, run_doctor_offline

from ..docs_blocks import ROOT
from .helpers import statuses

SCHEMA = json.loads((ROOT / "docs/reference/doctor.schema.json").read_text("utf-8"))
SKIPPED_AFTER = {  # every check after this one, skipped
    check.id: {later.id: "skipped" for later in CHECKS[n + 1 :]} for n, check in enumerate(CHECKS)
}

# What each scenario finds: the checks that do not end ok, and the exit code.
EXPECTED: dict[str, tuple[dict[str, str], int]] = {
    "healthy": ({}, 0),
    "wrong-key": ({"auth": "failure", "round-trip": "skipped", "latency": "skipped"}, 2),
    "clock-skew": ({"clock": "failure", **SKIPPED_AFTER["clock"]}, 2),
    "rate-limited": ({"rate-limit": "failure", **SKIPPED_AFTER["rate-limit"]}, 2),
    "dns-failure": ({"dns": "failure", **SKIPPED_AFTER["dns"]}, 2),
    "tls-failure": ({"tls": "failure", **SKIPPED_AFTER["tls"]}, 2),
    "slow-api": ({"latency": "warning"}, 1),
    "server-errors": ({"public-health": "failure", **SKIPPED_AFTER["public-health"]}, 2),
    "trickling": ({"public-health": "failure", **SKIPPED_AFTER["public-health"]}, 2),
}


@dataclass(frozen=True)
class Run:
    report: Report
    seconds: float  # real time


def run_mock(scenario: str) -> Run:
    """The doctor's `--mock SCENARIO` run."""
    found: list[Report] = []

    async def doctor(environ: Mapping[str, str], clock: Clock, network: Network) -> int:
        report = await run_doctor(environ=environ, clock=clock, network=network)
        found.append(report)
        return report.exit_code

    started = time.perf_counter()
    # As on the pages: wall-clock time stopped at the docs' instant (FakeClock's start), so
    # that certificate days and whole seconds of clock skew come out the same every run.
    with time_machine.travel(FakeClock().time(), tick=False):
        exit_code = run_doctor_offline(scenario, doctor)
    (report,) = found
    assert exit_code == report.exit_code
    return Run(report, time.perf_counter() - started)


@pytest.fixture(scope="module")
def mock_run() -> Callable[[str], Run]:
    """Each scenario's run, once for the module. A fixture, not a module-level cache: every
    pytest session runs its own, mutation testing's included (its sessions share the
    modules the first one imported)."""
    runs: dict[str, Run] = {}

    def run(scenario: str) -> Run:
        if scenario not in runs:
            runs[scenario] = run_mock(scenario)
        return runs[scenario]

    return run


@pytest.fixture(autouse=True)
def _no_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """--mock answers where PROMPTOPS_BASE_URL points: these runs use the default."""
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)


def test_every_scenario_has_its_expectations() -> None:
    assert list(EXPECTED) == list(MOCK_SCENARIOS)
    assert "healthy" in MOCK_SCENARIOS  # what --mock alone runs


@pytest.mark.parametrize("scenario", MOCK_SCENARIOS)
def test_each_scenario_finds_its_failure_and_skips_what_follows(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    report = mock_run(scenario).report
    expected, exit_code = EXPECTED[scenario]
    assert statuses(report) == expected
    assert report.exit_code == exit_code


@pytest.mark.parametrize("scenario", MOCK_SCENARIOS)
def test_a_full_mock_run_takes_well_under_a_second_of_real_time(
    scenario: str, mock_run: Callable[[str], Run]
) -> None:
    """On fake time: the trickling API's 30 s deadline and the slow API's 1.2 s per request
    take none."""
    assert mock_run(scenario).seconds < 1.0


def test_only_the_trickling_scenario_runs_out_of_time(mock_run: Callable[[str], Run]) -> None:
    cut = {name: [r.id for r in mock_run(name).report.ran_out_of_time] for name in MOCK_SCENARIOS}
    assert {name: ids for name, ids in cut.items() if ids} == {"trickling": ["public-health"]}


@pytest.mark.parametrize("scenario", MOCK_SCENARIOS)
def test_the_text_report_has_one_aligned_line_per_check_and_fix_and_link_under_problems(
    scenario: str,
    mock_run: Callable[[str], Run],
) -> None:
    report = mock_run(scenario).report
    lines = report.text()
    assert lines[0] == "PromptOps doctor: https://api.promptops.com"
    assert lines[-1] == report.summary()
    width = max(len(check.title) for check in CHECKS)
    body = iter(lines[1:-1])
    for result in report.results:
        line = next(body)
        assert line == f"{MARKS[result.status]:<4}  {result.title:<{width}}  {result.detail}"
        if result.status in ("warning", "failure"):
            indent = " " * (6 + width + 2)  # under the detail
            assert next(body) == f"{indent}fix: {result.fix}"
            assert next(body) == f"{indent}see: {result.link}"
    assert next(body, None) is None
    for line in lines:
        assert line.isprintable(), line  # no colour, no control character


@pytest.mark.parametrize("scenario", MOCK_SCENARIOS)
def test_the_summary_counts_each_status(scenario: str, mock_run: Callable[[str], Run]) -> None:
    report = mock_run(scenario).report
    counts = report.counts
    assert sum(counts.values()) == len(CHECKS)
    summary = report.summary()
    assert summary.startswith(f"{counts['ok']} ok, {counts['warning']} warning")
    assert f"{counts['skipped']} skipped" in summary


def test_the_summary_reads_as_the_issue_asks(mock_run: Callable[[str], Run]) -> None:
    assert mock_run("wrong-key").report.summary() == "10 ok, 0 warnings, 1 failure, 2 skipped"
    assert mock_run("slow-api").report.summary() == "12 ok, 1 warning, 0 failures, 0 skipped"


def test_colour_marks_the_words_and_takes_nothing_away(mock_run: Callable[[str], Run]) -> None:
    report = mock_run("slow-api").report
    coloured = report.text(colour=True)
    assert "\x1b[33mwarn\x1b[0m  Latency" in "\n".join(coloured)
    assert "\x1b[32mok  \x1b[0m  API key" in coloured[1]
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in coloured]
    assert plain == report.text()


@pytest.mark.parametrize("scenario", MOCK_SCENARIOS)
def test_the_json_report_is_valid_against_its_schema_and_says_what_the_text_says(
    scenario: str,
    mock_run: Callable[[str], Run],
) -> None:
    report = mock_run(scenario).report
    document = json.loads(json.dumps(report.as_json()))  # exactly what --json prints
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["exit_code"] == EXPECTED[scenario][1]
    assert {c["id"]: c["status"] for c in document["checks"] if c["status"] != "ok"} == (
        EXPECTED[scenario][0]
    )
    assert [c["detail"] for c in document["checks"]] == [r.detail for r in report.results]


def test_the_schema_itself_is_a_valid_json_schema_naming_every_check() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$defs"]["check_id"]["enum"] == [check.id for check in CHECKS]
    assert SCHEMA["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_the_schema_rejects_what_is_not_a_report(mock_run: Callable[[str], Run]) -> None:
    """It is not so loose that anything passes."""
    good = mock_run("healthy").report.as_json()
    for broken in (
        {**good, "exit_code": 3},
        {**good, "checks": [{**good["checks"][0], "status": "passed"}]},
        {**good, "checks": [{**good["checks"][0], "id": "dsn"}]},
        {k: v for k, v in good.items() if k != "summary"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


def test_measurements_for_monitoring(mock_run: Callable[[str], Run]) -> None:
    latency = next(r for r in mock_run("slow-api").report.results if r.id == "latency")
    assert latency.measurements == {
        "uncached_p50_ms": 1200.0,
        "uncached_p95_ms": 1200.0,
        "cached_p50_ms": 0.0,
        "cached_p95_ms": 0.0,
    }
    clock = next(r for r in mock_run("clock-skew").report.results if r.id == "clock")
    assert clock.measurements == {"offset_seconds": 420}
    limited = next(r for r in mock_run("rate-limited").report.results if r.id == "rate-limit")
    assert limited.measurements == {"retry_after_seconds": 60}
