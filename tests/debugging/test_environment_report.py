"""The environment report (snippets/debugging/environment_report.py)."""

from __future__ import annotations

import platform

import pytest

from snippets.debugging import environment_report as module
from snippets.debugging.environment_report import environment_report, format_report


def test_report_has_versions_and_hides_the_key() -> None:
    report = environment_report(
        {"PROMPTOPS_API_KEY": "po_live_secret_value", "HTTPS_PROXY": "http://u:p@h"}
    )
    assert report["Python"].startswith(platform.python_version())
    assert report["httpx"].startswith("0.")
    assert report["PROMPTOPS_API_KEY"] == "set"
    assert report["HTTPS_PROXY"] == "set"
    assert "po_live_secret_value" not in format_report(report)
    assert "u:p" not in format_report(report)


def test_missing_package_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "PACKAGES", ("no-such-package-xyz",))
    assert environment_report({})["no-such-package-xyz"] == "not installed"


def test_format_aligns_values() -> None:
    assert format_report({"OS": "Linux", "Python": "3.12.1"}) == "OS      Linux\nPython  3.12.1"


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert module.main([]) == 0
    assert capsys.readouterr().out.startswith("OS ")


def test_unset_settings_say_so() -> None:
    report = environment_report({})
    assert report["PROMPTOPS_API_KEY"] == "not set"
    assert report["PROMPTOPS_BASE_URL"] == "not set (default)"
    assert report["HTTPS_PROXY"] == "not set"


def test_base_url_is_shown_it_is_not_a_secret() -> None:
    assert (
        environment_report({"PROMPTOPS_BASE_URL": "http://localhost:8080"})["PROMPTOPS_BASE_URL"]
        == "http://localhost:8080"
    )


def test_credentials_and_a_query_in_the_base_url_are_not_shown() -> None:
    environ = {"PROMPTOPS_BASE_URL": "https://alice:po_live_in_url@api.promptops.com/?token=t0k"}
    report = environment_report(environ)
    assert report["PROMPTOPS_BASE_URL"] == "https://***@api.promptops.com/?***"


def test_the_command_line_is_the_scripts_own(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and unknown arguments behave as for every other script (they were ignored)."""
    with pytest.raises(SystemExit) as exit_:
        module.main(["--bogus"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_an_empty_base_url_is_shown_as_set_but_empty() -> None:
    assert environment_report({"PROMPTOPS_BASE_URL": ""})["PROMPTOPS_BASE_URL"] == "set, but empty"
