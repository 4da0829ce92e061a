"""Every check tool's `--json`, in every `--mock` scenario, against the one schema of their
reports, docs/reference/report.schema.json (published with the doctor's reference page): valid,
strict JSON (no NaN), and saying which tool wrote it and which scenario it simulated."""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from snippets.checks import SCHEMA_VERSION, Check, CheckContext, Outcome, run_checks
from snippets.client.clock import FakeClock
from snippets.scenarios import MOCK_SCENARIOS

from .docs_blocks import ROOT
from .scenarios import each_scenario

SCHEMA = json.loads((ROOT / "docs/reference/report.schema.json").read_text("utf-8"))
# Made once: jsonschema.validate() checks the schema itself against its meta-schema on every
# call, ten times the cost of validating a report.
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def check_tools() -> dict[str, ModuleType]:
    """{tool: its module} for every script of the package that runs a table of checks."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    modules = {
        name.removeprefix("promptops-"): importlib.import_module(target.partition(":")[0])
        for name, target in scripts.items()
    }
    return {tool: module for tool, module in modules.items() if hasattr(module, "CHECKS")}


TOOLS = check_tools()


def _no_nan(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON (RFC 8259)")


def printed_json(tool: str, scenario: str) -> tuple[dict[str, Any], int]:
    """What `promptops-<tool> --mock SCENARIO --json` prints, parsed as strict JSON, and its
    exit code."""
    out = io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        redirect_stdout(out),
        redirect_stderr(io.StringIO()),
    ):
        patch.delenv("PROMPTOPS_BASE_URL", raising=False)
        code = TOOLS[tool].main(["--mock", scenario, "--json"])
    document: dict[str, Any] = json.loads(out.getvalue(), parse_constant=_no_nan)
    return document, code


@pytest.fixture(scope="module")
def reports() -> Iterator[Callable[[str, str], tuple[dict[str, Any], int]]]:
    """Each tool's run in each scenario, once for the module."""
    runs: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}

    def run(tool: str, scenario: str) -> tuple[dict[str, Any], int]:
        if (tool, scenario) not in runs:
            runs[tool, scenario] = printed_json(tool, scenario)
        return runs[tool, scenario]

    yield run


def test_the_check_tools_are_the_five_the_schema_names() -> None:
    assert list(TOOLS) == [
        "doctor",
        "health-check",
        "config-doctor",
        "network-diagnostics",
        "clock-skew",
    ]
    assert SCHEMA["properties"]["tool"]["examples"] == list(TOOLS)


@pytest.mark.parametrize("scenario", each_scenario())
@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_s_json_in_each_scenario_is_valid_against_the_schema(
    tool: str, scenario: str, reports: Callable[[str, str], tuple[dict[str, Any], int]]
) -> None:
    document, code = reports(tool, scenario)
    VALIDATOR.validate(document)
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["tool"] == tool
    assert document["simulated"] == {"scenario": scenario}
    assert document["exit_code"] == code
    assert [c["id"] for c in document["checks"]] == [c.id for c in TOOLS[tool].CHECKS]
    counted = {status: 0 for status in ("ok", "warning", "failure", "skipped")}
    for finding in document["checks"]:
        counted[finding["status"]] += 1
    assert document["summary"] == counted
    json.dumps(document, allow_nan=False)


def test_the_schema_itself_is_a_valid_json_schema_of_this_version() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert SCHEMA["$id"] == "https://troubleshooting.promptops.com/reference/report.schema.json"


@pytest.mark.parametrize("tool", TOOLS)
def test_every_check_id_fits_the_schema_s_pattern_without_being_listed(tool: str) -> None:
    """A new check needs no edit of the schema: ids are a pattern, not an enum."""
    check_id = SCHEMA["$defs"]["check_id"]
    assert "enum" not in check_id
    for check in TOOLS[tool].CHECKS:
        assert re.fullmatch(check_id["pattern"], check.id), check.id


@pytest.mark.matrix  # the doctor in every scenario
def test_every_measurement_a_check_reports_is_named_in_the_schema(
    reports: Callable[[str, str], tuple[dict[str, Any], int]],
) -> None:
    described = SCHEMA["$defs"]["check"]["properties"]["measurements"]["description"]
    names = {
        (finding["id"], name)
        for scenario in MOCK_SCENARIOS
        for finding in reports("doctor", scenario)[0]["checks"]
        for name in finding["measurements"]
    }
    assert {name for _, name in names} == {
        "offset_seconds",
        "retry_after_seconds",
        "remaining",  # the busy-key scenario's API sends the RateLimit fields
        "limit",
        "uncached_p50_ms",
        "uncached_max_ms",
        "cached_p50_ms",
        "cached_max_ms",
    }
    for check_id, name in names:
        assert re.search(rf"{check_id}: [^.]*\b{name}\b", described), (check_id, name)
    for name in ("remaining", "limit"):  # where the API sends the RateLimit fields
        assert re.search(rf"rate-limit: [^.]*\b{name}\b", described), name


def test_the_schema_rejects_what_is_not_a_report(
    reports: Callable[[str, str], tuple[dict[str, Any], int]],
) -> None:
    """It is not so loose that anything passes."""
    good, _ = reports("doctor", "healthy")
    check = good["checks"][0]
    for broken in (
        {**good, "exit_code": 130},
        {**good, "schema_version": 1},
        {**good, "tool": "Doctor"},
        {**good, "simulated": "healthy"},
        {**good, "simulated": {"scenario": "healthy", "seed": 1}},
        {**good, "checks": [{**check, "status": "passed"}]},
        {**good, "checks": [{**check, "id": "DNS check"}]},
        {**good, "checks": [{**check, "measurements": {"offset_seconds": "420"}}]},
        {**good, "checks": [{**check, "link": "https://example.com/#x"}]},
        {**good, "ran_out_of_time": ["public health"]},
        {key: value for key, value in good.items() if key != "simulated"},
        {key: value for key, value in good.items() if key != "summary"},
        {**good, "extra": True},
    ):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(broken)


def test_a_measurement_that_is_not_a_finite_number_is_null_in_the_json() -> None:
    """Whatever a server sends, `--json` stays strict JSON: NaN and infinities are null."""

    async def measures(ctx: CheckContext) -> Outcome:
        figures = {"nan": math.nan, "inf": math.inf, "minus_inf": -math.inf, "fine": 1.5}
        return Outcome("ok", "measured", measurements=figures)

    check = Check("odd", "Odd numbers", measures, fix="-", section="debugging/#x", what="-")
    clock = FakeClock()
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        report = runner.run(run_checks("test", [check], CheckContext({}, clock=clock)))
    document = report.as_json()
    assert document["checks"][0]["measurements"] == {
        "nan": None,
        "inf": None,
        "minus_inf": None,
        "fine": 1.5,
    }
    VALIDATOR.validate(json.loads(json.dumps(document, allow_nan=False)))
