"""The environment report (snippets/debugging/environment_report.py): what a reader pastes into
a bug report, each setting as the client reads it (snippets/client/settings.py), never a
secret."""

from __future__ import annotations

import platform
from pathlib import Path

import certifi
import pytest

from snippets.debugging import environment_report as module
from snippets.debugging.environment_report import environment_report, format_report

from ..environ import clean_environment

KEY = "po_live_secret_value_0123"
SETTINGS = ("API key", "Base URL", "Proxy", "CAs")


def settings(environ: dict[str, str]) -> dict[str, str]:
    report = environment_report(environ)
    return {name: report[name] for name in SETTINGS}


def test_report_has_versions_and_hides_the_key() -> None:
    report = environment_report({"PROMPTOPS_API_KEY": KEY, "HTTPS_PROXY": "http://u:p@h"})
    assert report["Python"].startswith(platform.python_version())
    assert report["httpx"].startswith("0.")
    assert report["promptops-troubleshooting-docs"] != "not installed"
    assert report["API key"] == "set in PROMPTOPS_API_KEY"
    assert report["Proxy"] == "http://***@h (HTTPS_PROXY)"
    shown = format_report(report)
    assert KEY not in shown and "u:p" not in shown


def test_unset_settings_are_the_client_s_defaults() -> None:
    assert settings({}) == {
        "API key": "not set",
        "Base URL": "https://api.promptops.com (default)",
        "Proxy": "none",
        "CAs": "certifi's CAs",
    }


def test_each_setting_says_where_it_came_from() -> None:
    environ = {
        "PROMPTOPS_API_KEY": f"  {KEY}\n",
        "PROMPTOPS_BASE_URL": "http://localhost:8080",
        "http_proxy": "http://proxy.corp:3128",
        "SSL_CERT_FILE": certifi.where(),
    }
    assert settings(environ) == {
        "API key": "set in PROMPTOPS_API_KEY",
        "Base URL": "http://localhost:8080 (PROMPTOPS_BASE_URL)",  # not a secret: shown
        "Proxy": "http://proxy.corp:3128 (http_proxy)",
        "CAs": f"SSL_CERT_FILE={certifi.where()}",
    }


def test_a_folder_of_cas_is_named(tmp_path: Path) -> None:
    assert settings({"SSL_CERT_DIR": str(tmp_path)})["CAs"] == f"SSL_CERT_DIR={tmp_path}"


def test_no_proxy_is_applied_as_the_client_applies_it() -> None:
    environ = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".promptops.com"}
    assert settings(environ)["Proxy"] == "none"


@pytest.mark.parametrize(
    ("environ", "name", "shown"),
    [
        (
            {"PROMPTOPS_API_KEY": f'"{KEY}"'},
            "API key",
            "unusable: The API key (PROMPTOPS_API_KEY) has quotes around it (copied from a .env "
            "file?): remove them (nothing was sent)",
        ),
        (
            {"PROMPTOPS_API_KEY": "po_live_4f9c\x1b2a7d1e8b"},
            "API key",
            "unusable: The API key (PROMPTOPS_API_KEY) has a control or non-ASCII character at "
            "character 13: copy it again, without spaces, quotes or line breaks (nothing was "
            "sent)",
        ),
        (
            {"PROMPTOPS_BASE_URL": "https://alice:po_live_in_url@api.promptops.com/?token=t0k"},
            "Base URL",
            "unusable: PROMPTOPS_BASE_URL must not contain a user or password "
            "('https://***@api.promptops.com/?***'): the client signs in with the API key",
        ),
        (
            {"PROMPTOPS_BASE_URL": ""},
            "Base URL",
            "unusable: PROMPTOPS_BASE_URL is empty: unset it for the default",
        ),
        (
            {"PROMPTOPS_BASE_URL": "https://xn--a.com"},
            "Base URL",
            "unusable: PROMPTOPS_BASE_URL has an invalid host name ('https://xn--a.com'): "
            "Codepoint U+0080 at position 1 of '\\x80' not allowed",
        ),
        (
            {"HTTPS_PROXY": "ftp://proxy"},
            "Proxy",
            "unusable: HTTPS_PROXY names a ftp:// proxy ('ftp://proxy'): httpx supports http, "
            "https and socks5 proxies",
        ),
        (
            {"PROMPTOPS_BASE_URL": "http://127.0.0.1:1", "HTTP_PROXY": "http://u:pw@[::1"},
            "Proxy",
            "unusable: HTTP_PROXY is not a proxy URL ('http://***@[::1'): Invalid port: ':1'",
        ),
        (
            {"SSL_CERT_FILE": "/nonexistent/ca.pem"},
            "CAs",
            "unusable: SSL_CERT_FILE='/nonexistent/ca.pem' cannot be loaded: No such file or "
            "directory",
        ),
        (
            {"SSL_CERT_DIR": "/nonexistent"},
            "CAs",
            "unusable: SSL_CERT_DIR='/nonexistent' is not a folder",
        ),
    ],
)
def test_a_setting_the_client_cannot_use_is_shown_with_the_client_s_words(
    environ: dict[str, str], name: str, shown: str
) -> None:
    """A bug report then says what the client would say, not a traceback of this tool."""
    assert settings(environ)[name] == shown
    text = format_report(environment_report(environ))
    assert KEY not in text and "po_live_in_url" not in text and "alice" not in text


def test_the_key_is_never_shown_even_where_it_does_not_belong() -> None:
    """Pasted into a base URL's path, or as a proxy's password: a bug report is public."""
    environ = {
        "PROMPTOPS_API_KEY": KEY,
        "PROMPTOPS_BASE_URL": f"https://api.promptops.com/{KEY}",
        "HTTPS_PROXY": f"http://me:{KEY}@proxy.corp:3128",
    }
    report = settings(environ)
    assert report["Base URL"] == "https://api.promptops.com/*** (PROMPTOPS_BASE_URL)"
    assert report["Proxy"] == "http://***@proxy.corp:3128 (HTTPS_PROXY)"
    assert KEY not in format_report(environment_report(environ))


def test_a_base_url_that_cannot_be_used_leaves_the_proxy_unknown_not_unusable() -> None:
    """Which proxy is used depends on the base URL: its error is the base URL's, once."""
    report = settings({"PROMPTOPS_BASE_URL": "ftp://api.promptops.com"})
    assert report["Base URL"].startswith("unusable: PROMPTOPS_BASE_URL must be an http(s) URL")
    assert report["Proxy"] == "unknown: it depends on the base URL, which is unusable"


def test_missing_package_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "PACKAGES", ("no-such-package-xyz",))
    assert environment_report({})["no-such-package-xyz"] == "not installed"


def test_format_aligns_values() -> None:
    assert format_report({"OS": "Linux", "Python": "3.12.1"}) == "OS      Linux\nPython  3.12.1"


def test_command_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clean_environment(monkeypatch)
    monkeypatch.setenv("PROMPTOPS_API_KEY", KEY)
    assert module.main([]) == 0
    output = capsys.readouterr().out
    assert output.startswith("OS ")
    assert "API key                         set in PROMPTOPS_API_KEY\n" in output
    assert KEY not in output


def test_command_line_mock_run_shows_the_mock_s_settings_and_puts_the_machine_s_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_environment(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "ftp://set-aside-by-mock")
    assert module.main(["--mock"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(maxsplit=1)[0] for line in lines][:2] == ["OS", "Python"]
    shown = dict(line.split("  ", 1) for line in lines)
    assert {name: shown[name].strip() for name in SETTINGS} == {
        "API key": "set in PROMPTOPS_API_KEY",
        "Base URL": "https://api.promptops.com (default)",
        "Proxy": "none",
        "CAs": "certifi's CAs",
    }


def test_the_command_line_is_the_scripts_own(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and unknown arguments behave as for every other script (they were ignored)."""
    with pytest.raises(SystemExit) as exit_:
        module.main(["--bogus"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
