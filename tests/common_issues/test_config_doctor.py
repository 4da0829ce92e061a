"""The configuration doctor (snippets/common_issues/config_doctor.py)."""

from __future__ import annotations

import httpx
import pytest

from snippets.common_issues import config_doctor
from snippets.common_issues.config_doctor import diagnose, print_report, proxy_for
from snippets.mock_api import MockPromptOpsAPI

from ..in_memory import TLS

KEY = "po_live_4f9c2a7d1e8b3c6a5f0e9d2"


def levels(environ: dict[str, str], **settings: object) -> dict[str, str]:
    return {f.topic: f.level for f in diagnose(environ, **settings)}


def test_healthy_environment_has_no_problems(capsys: pytest.CaptureFixture[str]) -> None:
    findings = diagnose({"PROMPTOPS_API_KEY": KEY})
    assert {f.level for f in findings} == {"OK"}
    assert print_report(findings) == 0
    assert capsys.readouterr().out.endswith("No problems found\n")


@pytest.mark.parametrize(
    ("environ", "topic", "level"),
    [
        ({}, "API key", "ERROR"),
        ({"PROMPTOPS_API_KEY": f" {KEY}"}, "API key", "ERROR"),
        ({"PROMPTOPS_API_KEY": f"'{KEY}'"}, "API key", "ERROR"),
        ({"PROMPTOPS_API_KEY": "sk-something"}, "API key", "WARN"),
        (
            {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "api.promptops.com"},
            "Endpoint",
            "ERROR",
        ),
        ({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "https://x.io/v1"}, "Endpoint", "WARN"),
        ({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://x.io"}, "Endpoint", "WARN"),
        (
            {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://localhost:8080"},
            "Endpoint",
            "OK",
        ),
        ({"PROMPTOPS_API_KEY": KEY, "https_proxy": "http://p:3128"}, "Proxy", "WARN"),
        ({"PROMPTOPS_API_KEY": KEY, "SSL_CERT_FILE": "/nonexistent/ca.pem"}, "TLS", "ERROR"),
        ({"PROMPTOPS_API_KEY": KEY, "REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, "TLS", "WARN"),
    ],
)
def test_each_problem_is_found(environ: dict[str, str], topic: str, level: str) -> None:
    assert levels(environ)[topic] == level


@pytest.mark.parametrize(
    ("settings", "last"),
    [
        ({"timeout": 1}, ("WARN", "Timeout", "1 s is short: retries share this deadline")),
        ({"timeout": 4.9}, ("WARN", "Timeout", "4.9 s is short: retries share this deadline")),
        ({"timeout": 5}, ("OK", "Client", "timeout 5 s, 2 retries, cache 300 s")),
        (
            {"max_retries": 0},
            ("WARN", "Retries", "max_retries=0: one dropped connection fails the call"),
        ),
        ({"cache_ttl": 0}, ("WARN", "Cache", "cache_ttl=0: every get_prompt is a request")),
        ({}, ("OK", "Client", "timeout 30 s, 2 retries, cache 300 s")),
    ],
)
def test_risky_client_settings_are_warned_about_and_sound_ones_summed_up(
    settings: dict[str, float], last: tuple[str, str, str]
) -> None:
    findings = diagnose({"PROMPTOPS_API_KEY": KEY}, **settings)
    assert (findings[-1].level, findings[-1].topic, findings[-1].message) == last


def test_invalid_client_settings_are_errors() -> None:
    findings = diagnose({"PROMPTOPS_API_KEY": KEY}, timeout=-1)
    assert (findings[-1].level, findings[-1].topic, findings[-1].message) == (
        "ERROR",
        "Client",
        "timeout must be a finite number of seconds > 0, got -1",
    )


def test_secrets_are_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    environ = {
        "PROMPTOPS_API_KEY": f'"{KEY}"',
        "HTTPS_PROXY": "http://alice:s3cret@proxy:3128",
    }
    assert print_report(diagnose(environ)) == 1
    output = capsys.readouterr().out
    assert KEY not in output and "s3cret" not in output and "alice" not in output


def test_command_line_mock_run(
    clock: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert config_doctor.main(["--mock"]) == 0
    output = capsys.readouterr().out
    assert f"PROMPTOPS_API_KEY is set ({len(MockPromptOpsAPI.api_key)} characters)" in output
    assert output.endswith("No problems found\n")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ("ERROR", "API key", "PROMPTOPS_API_KEY is not set")),
        (
            {"PROMPTOPS_API_KEY": "sk-abc"},
            ("WARN", "API key", "PROMPTOPS_API_KEY does not start with 'po_'"),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "ftp://api.promptops.com"},
            (
                "ERROR",
                "Endpoint",
                "PROMPTOPS_BASE_URL must be an http(s) URL such as 'https://api.promptops.com',"
                " got 'ftp://api.promptops.com'",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://x.io"},
            ("WARN", "Endpoint", "PROMPTOPS_BASE_URL is plain http: keys travel unencrypted"),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://127.0.0.1:8080"},
            ("OK", "Endpoint", "http://127.0.0.1:8080"),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "HTTPS_PROXY": "http://bob:pw@proxy:3128"},
            (
                "WARN",
                "Proxy",
                "requests go through http://proxy:3128: check it allows api.promptops.com",
            ),
        ),
        (
            {
                "PROMPTOPS_API_KEY": KEY,
                "HTTPS_PROXY": "http://p:3128",
                "NO_PROXY": ".promptops.com",
            },
            ("OK", "Proxy", "none: NO_PROXY sends api.promptops.com direct"),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "ALL_PROXY": "socks5://p:1080"},
            (
                "WARN",
                "Proxy",
                "requests go through socks5://p:1080: check it allows api.promptops.com",
            ),
        ),
        (
            {
                "PROMPTOPS_API_KEY": KEY,
                "PROMPTOPS_BASE_URL": "http://localhost:8080",
                "HTTPS_PROXY": "http://p:3128",
                "HTTP_PROXY": "http://q:3128",
            },
            ("WARN", "Proxy", "requests go through http://q:3128: check it allows localhost"),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "HTTP_PROXY": "http://p:3128"},  # for http only
            ("OK", "Proxy", "none"),
        ),
        (
            {"PROMPTOPS_API_KEY": "XYZ_live_4f9c2a7d1e"},
            ("WARN", "API key", "PROMPTOPS_API_KEY does not start with 'po_'"),
        ),
        (
            {"PROMPTOPS_API_KEY": KEY, "SSL_CERT_FILE": "/nonexistent/ca.pem"},
            ("ERROR", "TLS", "SSL_CERT_FILE points to a missing file: /nonexistent/ca.pem"),
        ),
    ],
)
def test_each_finding_s_exact_words(
    environ: dict[str, str], expected: tuple[str, str, str]
) -> None:
    """Readers search for these messages: the wording is part of the behaviour."""
    assert expected in [(f.level, f.topic, f.message) for f in diagnose(environ)]


def test_a_bad_base_url_is_reported_once_and_the_client_settings_still_checked() -> None:
    findings = diagnose({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "ftp://x.io"}, timeout=2)
    assert [(f.level, f.topic) for f in findings] == [
        ("OK", "API key"),
        ("ERROR", "Endpoint"),
        ("OK", "Proxy"),
        ("OK", "TLS"),
        ("WARN", "Timeout"),
    ]


@pytest.mark.parametrize("inside", ["\n", " ", "\t", "\x00", "\x1b", "é"])
def test_a_key_with_whitespace_or_control_characters_inside_is_an_error(inside: str) -> None:
    """The client refuses such a key; the doctor must not call it OK."""
    key = f"po_live_4f9c{inside}2a7d1e8b"
    assert (
        "ERROR",
        "API key",
        "PROMPTOPS_API_KEY has a space, line break, control or non-ASCII character inside",
    ) in [(f.level, f.topic, f.message) for f in diagnose({"PROMPTOPS_API_KEY": key})]


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (
            "https://alice:po_live_in_url@api.promptops.com",
            "PROMPTOPS_BASE_URL must not contain a user or password"
            " ('https://***@api.promptops.com'): the client signs in with the API key",
        ),
        (
            "https://api.promptops.com?api_key=po_live_in_url",
            "PROMPTOPS_BASE_URL must not have a query string or fragment,"
            " got 'https://api.promptops.com?***'",
        ),
        ("", "PROMPTOPS_BASE_URL is empty: unset it for the default"),
        (
            "http://[::1",
            "PROMPTOPS_BASE_URL must be an http(s) URL such as 'https://api.promptops.com',"
            " got 'http://[::1'",
        ),
    ],
)
def test_bad_base_urls_are_errors_shown_without_secrets(
    base_url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = diagnose({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": base_url})
    assert ("ERROR", "Endpoint", message) in [(f.level, f.topic, f.message) for f in findings]
    assert [f.topic for f in findings if f.level == "ERROR"] == ["Endpoint"]  # reported once
    print_report(findings)
    output = capsys.readouterr().out
    assert "po_live_in_url" not in output and "alice" not in output


def test_the_client_check_reads_the_environment_given_not_the_process_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "ftp://wrong")
    assert levels({"PROMPTOPS_API_KEY": KEY}) == dict.fromkeys(
        ["API key", "Endpoint", "Proxy", "TLS", "Client"], "OK"
    )


@pytest.mark.parametrize(
    "environ",
    [
        {"HTTPS_PROXY": "http://p.example:3128"},
        {"HTTP_PROXY": "http://p.example:3128"},
        {"ALL_PROXY": "http://p.example:3128"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "localhost, .promptops.com"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "localhost,.promptops.com"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "promptops.com"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "api.promptops.com"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*.promptops.com"},
        {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "ops.com"},
    ],
)
@pytest.mark.parametrize("base_url", ["https://api.promptops.com", "http://api.promptops.com"])
def test_proxy_for_agrees_with_httpx_itself(
    environ: dict[str, str], base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transport httpx picks for the URL, from the same environment: a proxy's, or its
    own (direct)."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    client = httpx.Client(verify=TLS)
    direct = client._transport_for_url(httpx.URL(base_url)) is client._transport
    assert (proxy_for(base_url, environ) is None) == direct
