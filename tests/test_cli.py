"""The command line every script shares (snippets/cli.py), and what `--mock` does
(snippets/offline.py)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import json
import os
import tomllib
from typing import Any

import pytest

from snippets.checks import Check, CheckContext, Outcome
from snippets.cli import Option, Progress, run_check_tool, run_script, wants_colour
from snippets.client import PromptOpsClient
from snippets.mock_api import MOCK_API_KEY
from snippets.offline import simulated_resolver, simulation
from snippets.scenarios import MOCK_SCENARIOS

from .console import is_check_tool
from .docs_blocks import ROOT


async def _key_and_health() -> int:
    print(os.environ.get("PROMPTOPS_API_KEY") == MOCK_API_KEY)
    async with PromptOpsClient() as client:
        print((await client.health_check()).status)
    return 7


def test_mock_runs_offline_with_the_mock_key_and_returns_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert run_script("test", _key_and_health, "A test script.", ["--mock"]) == 7
    assert capsys.readouterr().out == "True\nhealthy\n"
    assert "PROMPTOPS_API_KEY" not in os.environ  # put back as it was


def test_mock_answers_where_promptops_base_url_points(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader with PROMPTOPS_BASE_URL set still runs offline: nothing reaches that URL."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://staging.promptops.example")
    assert run_script("test", _key_and_health, None, ["--mock"]) == 7
    assert capsys.readouterr().out == "True\nhealthy\n"


def test_a_simulation_sets_the_machine_s_proxy_and_ca_variables_aside_and_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A simulated report is the same on every machine: a reader's broken proxy variable does
    not fail `--mock`, and comes back afterwards."""
    monkeypatch.setenv("ALL_PROXY", "socks5://proxy.example:1080")
    monkeypatch.setenv("https_proxy", "http://[::1")
    monkeypatch.setenv("SSL_CERT_FILE", "/nowhere/ca.pem")
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_the_reader_s_own")
    with simulation() as sim:
        assert {k: v for k, v in os.environ.items() if k.lower().endswith("_proxy")} == {}
        assert "SSL_CERT_FILE" not in os.environ
        assert os.environ["PROMPTOPS_API_KEY"] == MOCK_API_KEY == sim.environ["PROMPTOPS_API_KEY"]
    assert os.environ["ALL_PROXY"] == "socks5://proxy.example:1080"
    assert os.environ["https_proxy"] == "http://[::1"
    assert os.environ["SSL_CERT_FILE"] == "/nowhere/ca.pem"
    assert os.environ["PROMPTOPS_API_KEY"] == "po_the_reader_s_own"


def test_a_simulation_ignores_an_unusable_base_url_and_answers_at_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "http://[::1")
    with simulation() as sim:
        assert sim.api.base_url == "https://api.promptops.com"
        assert "PROMPTOPS_BASE_URL" not in sim.environ
    assert os.environ["PROMPTOPS_BASE_URL"] == "http://[::1"


def test_every_mock_scenario_can_be_named_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_script("test", _key_and_health, None, ["--mock", "nope"])
    assert exit_.value.code == 2
    assert f"choose from {', '.join(MOCK_SCENARIOS)}" in capsys.readouterr().err


def test_help_shows_the_script_name_and_its_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_script("health-check", _key_and_health, "Checks things.\n\n    usage line", ["-h"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: promptops-health-check [-h] [--mock [SCENARIO]] [--debug]")
    assert "Checks things.\n\n    usage line" in help_text  # the docstring's layout is kept


def test_unknown_arguments_are_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_script("health-check", _key_and_health, None, ["--mokc"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --mokc" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        ("::1", ["::1"]),
        ("api.promptops.com", ["203.0.113.10"]),
        ("staging.promptops.example", ["203.0.113.10"]),
    ],
)
def test_simulated_dns_answers_every_name_with_a_documentation_address(
    host: str, addresses: list[str]
) -> None:
    assert asyncio.run(simulated_resolver(host)) == addresses


def test_simulated_dns_has_no_invalid_names() -> None:
    with pytest.raises(OSError, match="Name or service not known"):
        asyncio.run(simulated_resolver("api.promptops.invalid"))


async def _needs_a_key() -> int:
    async with PromptOpsClient() as client:
        await client.health_check()
    return 0


def test_an_error_that_stops_a_script_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing key, an unreachable API: a line a reader can act on, not a traceback."""
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert run_script("profiler", _needs_a_key, None, []) == 2
    assert capsys.readouterr().err == (
        "promptops-profiler: No API key: pass api_key=... or set the PROMPTOPS_API_KEY "
        "environment variable\n"
    )


async def _a_bug() -> int:
    raise ValueError(f"something broke near {os.environ['PROMPTOPS_API_KEY']}")


def test_an_unexpected_error_is_one_line_naming_the_script_and_where_to_report_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_secret_value_123")
    assert run_script("profiler", _a_bug, None, []) == 2
    assert capsys.readouterr().err == (
        "promptops-profiler: unexpected error, ValueError: something broke near ***. This is a "
        "bug of promptops-profiler: please report it at "
        "https://github.com/promptops/troubleshooting-guide/issues with the output of --debug\n"
    )


def test_debug_shows_the_traceback_without_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_secret_value_123")
    assert run_script("profiler", _a_bug, None, ["--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err
    assert 'raise ValueError(f"something broke near' in err
    assert "po_secret_value_123" not in err


async def _interrupted() -> int:
    raise KeyboardInterrupt


def test_ctrl_c_is_one_line_and_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_script("profiler", _interrupted, None, []) == 130
    assert capsys.readouterr().err == "promptops-profiler: interrupted\n"


class _Closed(io.StringIO):
    """A stdout whose reader has gone (`| head`): every write raises BrokenPipeError."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


class _Ascii(io.StringIO):
    """A stdout that can only encode ASCII (PYTHONIOENCODING=ascii)."""

    encoding = "ascii"

    def write(self, text: str) -> int:
        text.encode("ascii")  # UnicodeEncodeError, as a real ascii stream raises
        return super().write(text)


async def _prints_french() -> int:
    print("Clé refusée: réessayez")
    print("second line")
    return 1


def test_a_closed_stdout_ends_the_script_quietly_with_its_own_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdout", _Closed())
    assert run_script("test", _prints_french, None, []) == 1
    assert capsys.readouterr().err == ""


def test_text_the_terminal_cannot_encode_is_escaped_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _Ascii()
    monkeypatch.setattr("sys.stdout", out)
    assert run_script("test", _prints_french, None, []) == 1
    assert out.getvalue() == "Cl\\xe9 refus\\xe9e: r\\xe9essayez\nsecond line\n"


async def _ok(ctx: CheckContext) -> Outcome:
    return Outcome("ok", "fine", measurements={"seconds": float("nan")})


async def _warn(ctx: CheckContext) -> Outcome:
    return Outcome("warning", f"looked at {ctx.options['thing']}")


CHECKS = (
    Check("first", "First", _ok, fix="-", section="index/#x", what="."),
    Check("second", "Second", _warn, fix="Do this", section="index/#y", what="."),
)


def test_a_check_tool_prints_its_report_and_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    option = Option("--thing", "a thing")
    assert run_check_tool("test-tool", CHECKS, None, ["--thing", "it"], options=[option]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "PromptOps test tool: https://api.promptops.com",
        "ok    First                 fine",
        "warn  Second                looked at it",
        "                            fix: Do this",
        "                            see: https://troubleshooting.promptops.com/index/#y",
        "1 ok, 1 warning, 0 failures, 0 skipped",
    ]


def test_a_check_tool_s_mock_run_says_so_in_its_first_line_and_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--mock", "wrong-key", "--thing", "x"]
    run_check_tool("test-tool", CHECKS, None, argv, options=[Option("--thing", "t")])
    first = capsys.readouterr().out.splitlines()[0]
    assert (
        first == "PromptOps test tool: https://api.promptops.com (simulated API: --mock wrong-key)"
    )
    run_check_tool("test-tool", CHECKS, None, [*argv, "--json"], options=[Option("--thing", "t")])
    assert json.loads(capsys.readouterr().out)["simulated"] == {"scenario": "wrong-key"}


def test_json_never_holds_nan(capsys: pytest.CaptureFixture[str]) -> None:
    """RFC 8259 has no NaN: a measurement that is not a number is null."""
    run_check_tool("test-tool", CHECKS[:1], None, ["--json"])
    out = capsys.readouterr().out
    assert "NaN" not in out
    assert json.loads(out)["checks"][0]["measurements"] == {"seconds": None}


def _console_scripts() -> dict[str, str]:
    scripts: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))[
        "project"
    ]["scripts"]
    return scripts


@pytest.mark.parametrize(("name", "target"), _console_scripts().items())
def test_each_console_script_s_help_names_it_and_shows_its_docstring(
    name: str, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `promptops-... --help` prints: the command's own name, what it does (the module's
    docstring, as written), `--mock` and `--debug`; for a check tool `--json` and
    `--deadline` too."""
    module_name, _, function = target.partition(":")
    module: Any = importlib.import_module(module_name)
    with pytest.raises(SystemExit) as exit_:
        getattr(module, function)(["--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: {name} [-h] [--mock [SCENARIO]]")
    assert inspect.cleandoc(module.__doc__ or "").split("\n\n")[0] in shown
    flat = " ".join(shown.split())
    assert "--mock [SCENARIO] run against the mock API bundled with this package" in flat
    assert "--debug on an unexpected error, show the traceback" in flat
    # A module with a CHECKS table is a check tool: its main() runs it with run_check_tool.
    assert ("--json print the report as JSON" in flat) == is_check_tool(name)
    assert ("--deadline SECONDS time for the whole run" in flat) == is_check_tool(name)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_and_cleared_before_a_line_is_printed() -> None:
    terminal = _Terminal()
    progress = Progress(terminal)
    progress(1, 2, "DNS")
    progress.clear()
    progress.clear()  # nothing shown since: nothing written
    assert terminal.getvalue() == "\r\x1b[Kchecking 1/2: DNS\r\x1b[K"


def test_progress_is_not_written_to_a_log() -> None:
    log = io.StringIO()
    progress = Progress(log)
    progress(1, 2, "DNS")
    progress.clear()
    assert log.getvalue() == ""


@pytest.mark.parametrize(
    ("environ", "colour"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False), ({"NO_COLOR": ""}, True)],
)
def test_colour_only_on_a_terminal_without_no_color_or_a_dumb_term(
    environ: dict[str, str], colour: bool
) -> None:
    assert wants_colour(_Terminal(), environ) is colour
    assert wants_colour(io.StringIO(), environ) is False
