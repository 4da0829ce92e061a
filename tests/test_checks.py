"""The one language of the check tools (snippets/checks.py): how a table of checks runs, and
what its report says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from snippets import doctor
from snippets.authentication import clock_skew
from snippets.checks import (
    EXIT_CODES,
    MARKS,
    TITLE_WIDTH,
    Check,
    CheckContext,
    Outcome,
    Report,
    run_checks,
)
from snippets.client.clock import FakeClock
from snippets.common_issues import config_doctor
from snippets.debugging import network_diagnostics
from snippets.index import health_check
from snippets.mock_api import MockPromptOpsAPI

KEY = "po_live_4b9e1d7c3a2f"


async def _ok(ctx: CheckContext) -> Outcome:
    return Outcome("ok", "fine")


async def _fail(ctx: CheckContext) -> Outcome:
    return Outcome("failure", f"refused {KEY}\nforged line")


async def _raise(ctx: CheckContext) -> Outcome:
    raise LookupError("nothing here")


async def _hang(ctx: CheckContext) -> Outcome:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def _measure(ctx: CheckContext) -> Outcome:
    return Outcome("ok", "measured", measurements={"nan": float("nan"), "inf": -float("inf")})


def check(id: str, run: Any, needs: tuple[str, ...] = ()) -> Check:
    return Check(
        id,
        id.title(),
        run,
        fix="Open {host}:{port} or set {proxy_variable}",
        section="index/#x",
        what=".",
        needs=needs,
    )


def run(*checks: Check, deadline: float = 30.0, environ: dict[str, str] | None = None) -> Report:
    clock = FakeClock()
    ctx = CheckContext(
        {"PROMPTOPS_API_KEY": KEY} if environ is None else environ, clock=clock, deadline=deadline
    )
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(run_checks("test", checks, ctx))


def test_a_check_whose_need_failed_is_skipped_naming_it_and_so_are_the_ones_after() -> None:
    report = run(check("one", _fail), check("two", _ok, ("one",)), check("three", _ok, ("two",)))
    assert [(f.status, f.detail) for f in report.findings[1:]] == [
        ("skipped", "needs One, which failed"),
        ("skipped", "needs One, which failed"),
    ]
    assert report.exit_code == 2


def test_a_warning_does_not_stop_the_checks_that_need_it() -> None:
    async def warn(ctx: CheckContext) -> Outcome:
        return Outcome("warning", "hmm")

    report = run(check("one", warn), check("two", _ok, ("one",)))
    assert [f.status for f in report.findings] == ["warning", "ok"]
    assert report.exit_code == 1


def test_a_check_that_raises_fails_alone() -> None:
    report = run(check("one", _raise), check("two", _ok))
    assert [(f.status, f.detail) for f in report.findings] == [
        ("failure", "LookupError: nothing here"),
        ("ok", "fine"),
    ]


def test_the_deadline_fails_the_check_running_and_skips_the_rest_as_out_of_time() -> None:
    report = run(check("one", _ok), check("two", _hang), check("three", _ok), deadline=5)
    assert [(f.status, f.ran_out_of_time) for f in report.findings] == [
        ("ok", False),
        ("failure", True),
        ("skipped", True),
    ]
    assert report.findings[1].detail == "ran out of time: no result within the 5 s deadline"
    assert report.findings[2].detail == "not run: the 5 s deadline had passed"
    assert report.summary() == (
        "1 ok, 0 warnings, 1 failure, 1 skipped; ran out of time (5 s deadline): Two, Three"
    )
    assert report.exit_code == 2


def test_details_hide_the_key_and_escape_control_characters() -> None:
    (finding,) = run(check("one", _fail)).findings
    assert finding.detail == "refused ***\\nforged line"


def test_a_fix_names_the_api_s_host_port_and_proxy_variable() -> None:
    (finding,) = run(
        check("one", _fail),
        environ={"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://127.0.0.1:8080"},
    ).findings
    assert finding.fix == "Open 127.0.0.1:8080 or set HTTP_PROXY"


def test_ok_and_skipped_findings_have_no_fix() -> None:
    report = run(check("one", _fail), check("two", _ok), check("three", _ok, ("one",)))
    assert [f.fix for f in report.findings][1:] == [None, None]


def test_measurements_that_are_not_numbers_are_null_in_json() -> None:
    report = run(check("one", _measure))
    shown = json.dumps(report.as_json(), allow_nan=False)
    assert json.loads(shown)["checks"][0]["measurements"] == {"nan": None, "inf": None}


def test_the_text_report_has_a_header_a_line_per_finding_a_fix_and_link_under_a_failure() -> None:
    report = run(check("one", _ok), check("two", _fail))
    assert str(report).splitlines() == [
        "PromptOps test: https://api.promptops.com",
        "ok    One                   fine",
        "FAIL  Two                   refused ***\\nforged line",
        "                            fix: Open api.promptops.com:443 or set HTTPS_PROXY",
        "                            see: https://troubleshooting.promptops.com/index/#x",
        "1 ok, 0 warnings, 1 failure, 0 skipped",
    ]


def test_colour_marks_only_the_status_word() -> None:
    (finding,) = run(check("one", _fail)).findings
    assert finding.lines(colour=True)[0].startswith("\x1b[1;31mFAIL\x1b[0m  One ")


def test_the_four_words_and_the_exit_codes_are_the_documented_ones() -> None:
    assert list(MARKS.values()) == ["ok", "warn", "FAIL", "skip"]
    assert list(EXIT_CODES) == [0, 1, 2, 130]


TABLES = {
    "doctor": doctor.CHECKS,
    "health-check": health_check.CHECKS,
    "config-doctor": config_doctor.CHECKS,
    "network-diagnostics": network_diagnostics.CHECKS,
    "clock-skew": clock_skew.CHECKS,
}


@pytest.mark.parametrize("tool", TABLES)
def test_every_check_title_fits_the_report_s_column_and_every_id_is_unique(tool: str) -> None:
    checks = TABLES[tool]
    assert all(len(c.title) <= TITLE_WIDTH for c in checks)
    assert len({c.id for c in checks}) == len(checks)


def test_a_tool_run_with_the_run_fixture_signs_with_the_mock_s_time(
    mock_api: MockPromptOpsAPI, run: Callable[[Coroutine[Any, Any, Report]], Report]
) -> None:
    """contributing.md's recipe: `run(tool())` against the `mock_api` fixture, the tool making
    its clients with the default clock (the real one, but for the loop it runs on)."""
    report = run(health_check.run_health_checks())
    assert [f.status for f in report.findings] == ["ok"] * 4
