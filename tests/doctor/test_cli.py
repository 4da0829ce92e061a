"""The `promptops-doctor` command (`snippets.doctor.main`, on `snippets.cli.run_check_tool`):
its options, exit codes, output streams, colour and progress, what `--mock` says, and
`python -m snippets.doctor`."""

from __future__ import annotations

import io
import json
import runpy
import sys
import tomllib
from typing import Any

import pytest

from snippets import cli, doctor
from snippets.cli import Progress, wants_colour
from snippets.client import ConfigurationError
from snippets.client.clock import SYSTEM_CLOCK
from snippets.doctor.checks import LATENCY_SAMPLES
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.scenarios import MOCK_SCENARIOS

from ..docs_blocks import ROOT
from ..local_server import serve


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class ClosedAfter(io.StringIO):
    """A stdout whose reader goes away after `lines` lines (`promptops-doctor | head -3`)."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= self.lines:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)


def test_mock_alone_runs_the_healthy_scenario_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert doctor.main(["--mock"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "PromptOps doctor: https://api.promptops.com (simulated API: --mock healthy)"
    assert len(lines) == 1 + len(doctor.CHECKS) + 1 == 17
    assert lines[-1] == "15 ok, 0 warnings, 0 failures, 0 skipped"
    assert err == ""  # not a terminal: no progress


@pytest.mark.parametrize(
    ("scenario", "code", "summary"),
    [
        ("slow-api", 1, "14 ok, 1 warning, 0 failures, 0 skipped"),
        ("wrong-key", 2, "11 ok, 0 warnings, 1 failure, 3 skipped"),
    ],
)
def test_the_exit_code_is_1_with_warnings_and_2_with_failures(
    scenario: str, code: int, summary: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert doctor.main(["--mock", scenario]) == code
    assert capsys.readouterr().out.splitlines()[-1] == summary


def test_json_prints_the_report_and_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--mock", "dns-failure", "--json"]) == 2
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["tool"] == "doctor"
    assert report["simulated"] == {"scenario": "dns-failure"}
    assert report["exit_code"] == 2
    assert report["summary"] == {"ok": 4, "warning": 0, "failure": 1, "skipped": 10}
    assert [check["id"] for check in report["checks"]] == [check.id for check in doctor.CHECKS]
    assert err == ""


def test_under_mock_the_key_check_names_the_mock_s_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The machine's own key (here one that would warn) is set aside, and not reported on."""
    monkeypatch.setenv("PROMPTOPS_API_KEY", " po_live_of_this_machine ")
    assert doctor.main(["--mock"]) == 0
    out = capsys.readouterr().out
    assert "ok    API key               the mock API's key, set by --mock\n" in out
    assert "PROMPTOPS_API_KEY" not in out


def test_mock_answers_where_promptops_base_url_points(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://staging.promptops.example")
    assert doctor.main(["--mock"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "PromptOps doctor: https://staging.promptops.example (simulated API: --mock healthy)\n"
    )
    assert "staging.promptops.example:443 accepts connections" in out


def test_mock_on_a_plain_http_base_url_skips_tls_and_still_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the copy check does: PROMPTOPS_BASE_URL at a port where nothing listens."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "http://127.0.0.1:9")
    assert doctor.main(["--mock"]) == 0
    assert "skip  TLS                   not used: the base URL is plain http" in (
        capsys.readouterr().out
    )


def test_mock_ignores_a_base_url_it_cannot_use_and_answers_at_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "api.promptops.com")
    assert doctor.main(["--mock"]) == 0
    assert capsys.readouterr().out.startswith("PromptOps doctor: https://api.promptops.com (")


def test_an_unknown_scenario_is_a_usage_error_that_lists_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--mock", "wrong-keys"])
    assert exit_.value.code == 2
    assert f"unknown scenario 'wrong-keys': choose from {', '.join(MOCK_SCENARIOS)}" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_the_deadline_must_be_a_number_of_seconds_above_0(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--mock", "--deadline", value])
    assert exit_.value.code == 2
    assert f"--deadline: must be a number of seconds above 0, got '{value}'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("1", 1.0), ("600", 600.0)])
def test_any_number_of_seconds_above_0_is_a_deadline(value: str, seconds: float) -> None:
    assert cli._seconds(value) == seconds


def test_the_deadline_bounds_a_trickling_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--mock", "trickling", "--deadline", "2.5"]) == 2
    out = capsys.readouterr().out
    assert "FAIL  Public health         ran out of time: no result within the 2.5 s deadline" in out
    assert out.splitlines()[-1].endswith("; ran out of time (2.5 s deadline): Public health")


def test_the_deadline_is_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--mock", "trickling", "--deadline", "2.5", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["deadline_seconds"] == 2.5
    assert report["ran_out_of_time"] == ["public-health"]


def test_progress_goes_to_stderr_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert doctor.main(["--mock", "wrong-key"]) == 2
    shown = terminal.getvalue()
    assert shown.startswith("\r\x1b[Kchecking 1/15: API key")
    assert "\r\x1b[Kchecking 15/15: Latency" in shown
    assert shown.endswith("\r\x1b[K")  # the line is cleared before the summary
    assert "checking" not in capsys.readouterr().out


def test_progress_is_cleared_before_each_finding_is_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both streams on one terminal: each finding starts on a clean line."""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    assert doctor.main(["--mock"]) == 0
    shown = terminal.getvalue()
    assert "checking 1/15: API key\r\x1b[Kok    API key " in shown
    assert "checking 15/15: Latency\r\x1b[Kok    Latency " in shown


def test_progress_off_a_terminal_writes_nothing() -> None:
    quiet = io.StringIO()
    progress = Progress(quiet)
    progress(1, 15, "API key")
    progress.clear()
    assert quiet.getvalue() == ""


def test_progress_json_on_a_terminal_keeps_stdout_to_the_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert doctor.main(["--mock", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exit_code"] == 0


def test_colour_on_a_terminal_unless_no_color_or_a_dumb_terminal() -> None:
    assert wants_colour(Terminal(), {})
    assert not wants_colour(io.StringIO(), {})
    assert not wants_colour(Terminal(), {"NO_COLOR": "1"})
    assert wants_colour(Terminal(), {"NO_COLOR": ""})  # no-color.org: set and not empty
    assert not wants_colour(Terminal(), {"TERM": "dumb"})
    assert wants_colour(Terminal(), {"TERM": "xterm-256color"})


def test_the_report_is_coloured_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert doctor.main(["--mock", "wrong-key"]) == 2
    assert "\x1b[1;31mFAIL\x1b[0m  Authenticated health" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    monkeypatch.setattr(sys, "stdout", plain)
    doctor.main(["--mock", "wrong-key"])
    assert "\x1b[" not in plain.getvalue()


def test_json_on_a_terminal_has_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert doctor.main(["--mock", "wrong-key", "--json"]) == 2
    assert "\x1b[" not in terminal.getvalue()
    json.loads(terminal.getvalue())


def test_a_closed_stdout_ends_the_run_quietly_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`promptops-doctor --mock wrong-key | head -3`: no BrokenPipeError, no traceback."""
    closed = ClosedAfter(3)
    monkeypatch.setattr(sys, "stdout", closed)
    assert doctor.main(["--mock", "wrong-key"]) == 2
    assert closed.getvalue().count("\n") == 3
    assert capsys.readouterr().err == ""


def test_ctrl_c_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_checks", interrupted)
    assert doctor.main(["--mock"]) == 130
    assert capsys.readouterr().err == "promptops-doctor: interrupted\n"


def test_an_error_that_stops_the_run_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def misconfigured(*args: Any, **kwargs: Any) -> None:
        raise ConfigurationError("The CA bundle SSL_CERT_FILE=x cannot be read")

    monkeypatch.setattr(cli, "run_checks", misconfigured)
    assert doctor.main([]) == 2
    assert capsys.readouterr().err == (
        "promptops-doctor: The CA bundle SSL_CERT_FILE=x cannot be read\n"
    )


def test_an_unexpected_error_is_one_line_naming_where_to_report_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "run_checks", broken)
    assert doctor.main(["--mock"]) == 2
    assert capsys.readouterr().err == (
        "promptops-doctor: unexpected error, RuntimeError: a bug. This is a bug of "
        f"promptops-doctor: please report it at {cli.ISSUES} with the output of --debug\n"
    )
    assert doctor.main(["--mock", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "promptops-doctor: unexpected error, RuntimeError: a bug. This is a bug of "
        f"promptops-doctor: please report it at {cli.ISSUES}\nTraceback (most recent call last):"
    )
    assert err.endswith("RuntimeError: a bug\n")


def test_text_the_terminal_cannot_encode_is_shown_escaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An API answering in an ASCII terminal (`LANG=C`): no UnicodeEncodeError."""
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://bücher.example")
    assert doctor.main(["--mock"]) == 0
    ascii_out.flush()
    assert (
        raw.getvalue()
        .decode("ascii")
        .startswith(
            "PromptOps doctor: https://b\\xfccher.example (simulated API: --mock healthy)\n"
        )
    )


def test_python_dash_m_runs_the_same_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m snippets.doctor", "--mock", "rate-limited"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("snippets.doctor", run_name="__main__")
    assert exit_.value.code == 2
    assert "FAIL  Rate limit" in capsys.readouterr().out


def test_the_console_script_is_the_doctor_s_main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["scripts"]["promptops-doctor"] == "snippets.doctor:main"


def test_help_says_what_the_command_does_and_what_each_option_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--help"])
    assert exit_.value.code == 0
    printed = capsys.readouterr().out
    shown = " ".join(printed.split())  # as one line: argparse wraps
    assert shown.startswith(
        "usage: promptops-doctor [-h] [--mock [SCENARIO]] [--json] [--deadline SECONDS] [--debug]"
    )
    assert "PromptOps doctor: runs every check this guide teaches, in one command" in shown
    assert "--json print the report as JSON, for CI and monitoring (its schema: below)" in shown
    assert "--deadline SECONDS time for the whole run (default: 30)" in shown
    assert (
        "--mock [SCENARIO] run against the mock API bundled with this package (no account, no "
        "network); SCENARIO is what goes wrong there (default: healthy; an unknown name lists "
        "them)"
    ) in shown
    assert "--debug on an unexpected error, show the traceback" in shown
    assert f"\nThe JSON schema of --json: {cli.SCHEMA_URL}\n" in printed  # on a line of its own


@pytest.mark.real_time  # a server on 127.0.0.1, stopped in real time
def test_without_mock_the_doctor_checks_the_api_the_settings_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """For real: the system's resolver, a TCP connection and HTTP on 127.0.0.1 (the mock API
    served by uvicorn), the system clock."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    proxies_and_cas = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")
    for variable in (*proxies_and_cas, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)
    with serve(MockASGIApp(api)) as base_url:
        monkeypatch.setenv("PROMPTOPS_BASE_URL", base_url)
        monkeypatch.setenv("PROMPTOPS_API_KEY", api.api_key)
        code = doctor.main(["--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["simulated"] is None
    statuses = {check["id"]: check["status"] for check in report["checks"]}
    # The latency check's verdict is this machine's speed: real renders, timed on the real
    # clock (a busy machine can take a median past 1 s, a warning). What this test asks is
    # that it timed this API: its renders reached the server, and its code is its verdict's.
    # Its verdicts themselves are proved on fake time (test_checks.py, test_report.py).
    latency = statuses.pop("latency")
    assert statuses == {
        **{check.id: "ok" for check in doctor.CHECKS if check.id != "latency"},
        "tls": "skipped",
    }
    renders = [r for r in api.requests if r.url.path.endswith("/render")]
    assert len(renders) == 1 + LATENCY_SAMPLES  # the Rendering check's, then the five timed
    assert code == report["exit_code"] == {"ok": 0, "warning": 1, "failure": 2}[latency]
    port = base_url.rsplit(":", 1)[1]
    details = {check["id"]: check["detail"] for check in report["checks"]}
    assert details["tcp"] == f"127.0.0.1:{port} accepts connections"
    assert details["api-key"] == "PROMPTOPS_API_KEY is set (27 characters)"
