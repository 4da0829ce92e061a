"""The `promptops-doctor` command (snippets/doctor/cli.py): its options, exit codes, output
streams, colour and progress, and `python -m snippets.doctor`."""

from __future__ import annotations

import io
import json
import runpy
import sys
import tomllib

import pytest

from snippets import doctor
from snippets.cli import run_script, script_parser
from snippets.client import ConfigurationError
from snippets.client.clock import SYSTEM_CLOCK
from snippets.doctor import cli
from snippets.doctor.cli import Progress, wants_colour
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.offline import MOCK_SCENARIOS

from ..docs_blocks import ROOT
from ..local_server import serve


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_mock_alone_runs_the_healthy_scenario_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert doctor.main(["--mock"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "PromptOps doctor: https://api.promptops.com"
    assert len(lines) == 1 + 13 + 1
    assert lines[-1] == "13 ok, 0 warnings, 0 failures, 0 skipped"
    assert err == ""  # not a terminal: no progress


@pytest.mark.parametrize(("scenario", "code"), [("slow-api", 1), ("wrong-key", 2)])
def test_the_exit_code_is_1_with_warnings_and_2_with_failures(
    scenario: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert doctor.main(["--mock", scenario]) == code
    assert capsys.readouterr().out.splitlines()[-1].startswith("12 ok" if code == 1 else "10 ok")


def test_json_prints_the_report_and_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--mock", "dns-failure", "--json"]) == 2
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["exit_code"] == 2
    assert report["summary"] == {"ok": 4, "warning": 0, "failure": 1, "skipped": 8}
    assert err == ""


def test_mock_answers_where_promptops_base_url_points(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://staging.promptops.example")
    assert doctor.main(["--mock"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PromptOps doctor: https://staging.promptops.example\n")
    assert "staging.promptops.example:443 accepts connections" in out


def test_mock_on_a_plain_http_base_url_skips_tls_and_still_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the copy check does: PROMPTOPS_BASE_URL at a port where nothing listens."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "http://127.0.0.1:9")
    assert doctor.main(["--mock"]) == 0
    assert "skip  TLS" in capsys.readouterr().out


def test_an_unknown_scenario_is_a_usage_error_that_lists_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--mock", "wrong-keys"])
    assert exit_.value.code == 2
    assert f"choose from {', '.join(MOCK_SCENARIOS)}" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_the_deadline_must_be_a_number_of_seconds_above_0(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--mock", "--deadline", value])
    assert exit_.value.code == 2
    assert "--deadline: must be a number of seconds above 0" in capsys.readouterr().err


def test_the_deadline_bounds_a_trickling_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--mock", "trickling", "--deadline", "2.5"]) == 2
    out = capsys.readouterr().out
    assert "FAIL  Public health         ran out of time: no result within the 2.5 s deadline" in out
    assert out.splitlines()[-1].endswith("; ran out of time (2.5 s deadline): Public health")


def test_progress_goes_to_stderr_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert doctor.main(["--mock", "wrong-key"]) == 2
    shown = terminal.getvalue()
    assert shown.startswith("\r\x1b[Kchecking 1/13: API key")
    assert "\r\x1b[Kchecking 13/13: Latency" in shown
    assert shown.endswith("\r\x1b[K")  # the line is cleared before the report
    assert "checking" not in capsys.readouterr().out

    quiet = io.StringIO()
    progress = Progress(quiet)
    progress(1, 13, "API key")
    progress.done()
    assert quiet.getvalue() == ""


def test_colour_on_a_terminal_unless_no_color_or_a_dumb_terminal() -> None:
    assert wants_colour(Terminal(), {})
    assert not wants_colour(io.StringIO(), {})
    assert not wants_colour(Terminal(), {"NO_COLOR": "1"})
    assert wants_colour(Terminal(), {"NO_COLOR": ""})  # no-color.org: set and not empty
    assert not wants_colour(Terminal(), {"TERM": "dumb"})


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


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    async def interrupted(**kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_doctor", interrupted)
    assert doctor.main([]) == 130


def test_an_error_that_stops_the_run_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def misconfigured(**kwargs: object) -> None:
        raise ConfigurationError("The CA bundle in SSL_CERT_FILE='x' cannot be loaded")

    monkeypatch.setattr(cli, "run_doctor", misconfigured)
    assert doctor.main([]) == 2
    assert capsys.readouterr().err == (
        "promptops-doctor: The CA bundle in SSL_CERT_FILE='x' cannot be loaded\n"
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
    assert doctor.main is cli.main


def test_the_other_scripts_keep_their_plain_mock_flag(capsys: pytest.CaptureFixture[str]) -> None:
    async def script() -> int:
        return 0

    with pytest.raises(SystemExit):
        run_script("health-check", script, None, ["--mock", "wrong-key"])
    assert "unrecognized arguments: wrong-key" in capsys.readouterr().err
    assert script_parser("doctor", None, scenarios=True).parse_args(["--mock"]).mock == "healthy"
    assert script_parser("profiler", None).parse_args(["--mock"]).mock is True


def test_help_says_what_the_command_does_and_what_each_option_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--help"])
    assert exit_.value.code == 0
    printed = capsys.readouterr().out
    shown = " ".join(printed.split())  # as one line: argparse wraps
    assert shown.startswith("usage: promptops-doctor [-h] [--mock [SCENARIO]] [--json]")
    assert "PromptOps doctor: runs every check this guide teaches, in one command" in shown
    assert "--json print the report as JSON, for CI (its schema: below)" in shown
    assert "--deadline SECONDS time for the whole run (default: 30)" in shown
    assert (
        "--mock [SCENARIO] run against the mock API bundled with this package: no account, no "
        "network; SCENARIO is what goes wrong there (default: healthy; an unknown name lists "
        "them all)"
    ) in shown
    assert f"\nThe JSON schema of --json: {cli.SCHEMA_URL}\n" in printed  # on a line of its own


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("1", 1.0), ("600", 600.0)])
def test_any_number_of_seconds_above_0_is_a_deadline(value: str, seconds: float) -> None:
    assert cli._seconds(value) == seconds


def test_without_mock_the_doctor_checks_the_api_the_settings_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """For real: the system's resolver, a TCP connection and HTTP on 127.0.0.1 (the mock API
    served by uvicorn), the system clock."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    proxies_and_cas = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")
    for variable in (*proxies_and_cas, "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)
    with serve(MockASGIApp(api)) as base_url:
        monkeypatch.setenv("PROMPTOPS_BASE_URL", base_url)
        monkeypatch.setenv("PROMPTOPS_API_KEY", api.api_key)
        code = cli.main(["--json"])
    report = json.loads(capsys.readouterr().out)
    statuses = {check["id"]: check["status"] for check in report["checks"]}
    assert statuses == {**{check.id: "ok" for check in doctor.CHECKS}, "tls": "skipped"}
    assert code == 0
    port = base_url.rsplit(":", 1)[1]
    assert {check["id"]: check["detail"] for check in report["checks"]}["tcp"] == (
        f"127.0.0.1:{port} accepts connections"
    )


def test_show_prints_to_the_stream_it_is_given() -> None:
    report = doctor.Report("https://api.promptops.com", 30.0, ())
    stream = io.StringIO()
    cli.show(report, as_json=True, stream=stream)
    assert json.loads(stream.getvalue())["base_url"] == "https://api.promptops.com"
