"""The configuration doctor (snippets/common_issues/config_doctor.py): every refusal and every
note of the settings readers (snippets/client/settings.py) as a finding, in their exact words."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from importlib.machinery import ModuleSpec
from pathlib import Path

import certifi
import httpx
import pytest
import trustme

from snippets.checks import Report
from snippets.client.settings import read_proxy
from snippets.common_issues import config_doctor
from snippets.common_issues.config_doctor import check_configuration

from ..environ import clean_environment
from ..in_memory import TLS

KEY = "po_live_4f9c2a7d1e8b3c6a5f0e9d2"
BAD_KEY_FIX = (
    "Set PROMPTOPS_API_KEY to the key from the dashboard, without quotes, spaces or line breaks, "
    "where the client runs"
)
PROXY_FIX = (
    "Set the variable it names to a proxy httpx can use (http://host:port; for SOCKS, pip "
    "install 'httpx[socks]'), or unset it"
)


def check(environ: dict[str, str]) -> Report:
    """The configuration doctor's report on `environ` (never this process's environment)."""
    return asyncio.run(check_configuration(environ))


def found(environ: dict[str, str], check_id: str) -> tuple[str, str]:
    """(status, detail) of one check."""
    finding = {f.id: f for f in check(environ).findings}[check_id]
    return finding.status, finding.detail


def with_key(**more: str) -> dict[str, str]:
    return {"PROMPTOPS_API_KEY": KEY, **more}


@pytest.fixture
def no_socksio(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx's SOCKS support missing, as in a plain `pip install httpx`."""
    find_spec = importlib.util.find_spec

    def without_socksio(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "socksio" else find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_socksio)


def test_a_healthy_environment_is_all_ok_and_exits_0() -> None:
    report = check(with_key())
    assert [(f.id, f.status, f.detail) for f in report.findings] == [
        ("api-key", "ok", f"PROMPTOPS_API_KEY is set ({len(KEY)} characters)"),
        ("base-url", "ok", "default (https://api.promptops.com)"),
        ("proxy", "ok", "none: requests go direct"),
        ("ca-bundle", "ok", "certifi's CAs"),
    ]
    assert report.exit_code == 0
    assert str(report).splitlines()[-1] == "4 ok, 0 warnings, 0 failures, 0 skipped"


# -- the API key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {},
            (
                "failure",
                "No API key: pass api_key=... or set the PROMPTOPS_API_KEY environment variable",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": "  \n"},
            (
                "failure",
                "No API key: pass api_key=... or set the PROMPTOPS_API_KEY environment variable",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": f"'{KEY}'"},
            (
                "failure",
                "The API key (PROMPTOPS_API_KEY) has quotes around it (copied from a .env "
                "file?): remove them (nothing was sent)",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": f'"{KEY}"'},
            (
                "failure",
                "The API key (PROMPTOPS_API_KEY) has quotes around it (copied from a .env "
                "file?): remove them (nothing was sent)",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": f"{KEY}'"},
            (
                "warning",
                f"PROMPTOPS_API_KEY is set ({len(KEY) + 1} characters); it starts or ends with "
                "a quote: copied with part of a .env line?",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": f'"{KEY}'},
            (
                "warning",
                f"PROMPTOPS_API_KEY is set ({len(KEY) + 1} characters); it starts or ends with "
                "a quote: copied with part of a .env line?",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": f" {KEY}\n"},  # a secret file's line break: harmless
            (
                "ok",
                f"PROMPTOPS_API_KEY is set ({len(KEY)} characters; the spaces around it are "
                "ignored)",
            ),
        ),
        (
            {"PROMPTOPS_API_KEY": f"\t{KEY}  "},
            (
                "ok",
                f"PROMPTOPS_API_KEY is set ({len(KEY)} characters; the spaces around it are "
                "ignored)",
            ),
        ),
        # The contract has no key format: any key is sent as `Bearer <key>` (no `po_` warning).
        ({"PROMPTOPS_API_KEY": "sk-abc"}, ("ok", "PROMPTOPS_API_KEY is set (6 characters)")),
        ({"PROMPTOPS_API_KEY": "XYZ_live_4f9"}, ("ok", "PROMPTOPS_API_KEY is set (12 characters)")),
    ],
    ids=[
        "unset",
        "blank",
        "spaces-around",
        "tab-and-spaces-around",
        "single-quotes",
        "double-quotes",
        "trailing-quote",
        "leading-quote",
        "sk-key",
        "no-po-prefix",
    ],
)
def test_each_api_key_finding_s_exact_words(
    environ: dict[str, str], expected: tuple[str, str]
) -> None:
    """Readers search for these messages: the wording is part of the behaviour."""
    assert found(environ, "api-key") == expected


@pytest.mark.parametrize(
    ("inside", "position", "kind"),
    [
        ("\n", 13, "a space or line break"),
        (" ", 13, "a space or line break"),
        ("\t", 13, "a space or line break"),
        ("\x00", 13, "a control or non-ASCII character"),
        ("\x1b", 13, "a control or non-ASCII character"),
        ("é", 13, "a control or non-ASCII character"),
    ],
)
def test_a_key_with_whitespace_or_control_characters_inside_fails_naming_where(
    inside: str, position: int, kind: str
) -> None:
    """The client refuses such a key (a header cannot carry it); the doctor must not call it
    ok, and says at which character to look."""
    key = f"po_live_4f9c{inside}2a7d1e8b"
    assert found({"PROMPTOPS_API_KEY": key}, "api-key") == (
        "failure",
        f"The API key (PROMPTOPS_API_KEY) has {kind} at character {position}: copy it again, "
        "without spaces, quotes or line breaks (nothing was sent)",
    )


def test_a_failing_key_gets_the_check_s_fix_and_link() -> None:
    (first, *_) = check({}).findings
    assert first.fix == BAD_KEY_FIX
    assert first.link == (
        "https://troubleshooting.promptops.com/common-issues/#configurationerror-no-api-key"
    )
    assert first.lines()[1:] == [
        f"{' ' * 28}fix: {BAD_KEY_FIX}",
        f"{' ' * 28}see: {first.link}",
    ]


# -- the base URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.promptops.com", ("ok", "https://api.promptops.com")),
        ("https://api.promptops.com/", ("ok", "https://api.promptops.com")),
        ("http://localhost:8080", ("ok", "http://localhost:8080")),
        ("http://127.0.0.1:8080", ("ok", "http://127.0.0.1:8080")),
        ("http://[::1]:8080", ("ok", "http://[::1]:8080")),
        ("http://dev.localhost", ("ok", "http://dev.localhost")),
        # An international name is sent as IDNA: shown as the client sends it.
        ("https://bücher.example", ("ok", "https://xn--bcher-kva.example")),
        (
            "http://x.io",
            (
                "warning",
                "http://x.io; plain http to x.io: the key and every prompt travel unencrypted; "
                "use https",
            ),
        ),
        (
            "http://10.0.0.5:8080",
            (
                "warning",
                "http://10.0.0.5:8080; plain http to 10.0.0.5: the key and every prompt travel "
                "unencrypted; use https",
            ),
        ),
        (
            "https://x.io/v1",
            ("warning", "https://x.io/v1; it has a path (/v1): the API root has none"),
        ),
        (
            "https://xn--a.com",
            (
                "failure",
                "PROMPTOPS_BASE_URL has an invalid host name ('https://xn--a.com'): Codepoint "
                "U+0080 at position 1 of '\\x80' not allowed",
            ),
        ),
        (
            "https://-api.promptops.com",
            (
                "failure",
                "PROMPTOPS_BASE_URL has an invalid host name, got 'https://-api.promptops.com'",
            ),
        ),
        (
            "api.promptops.com",
            (
                "failure",
                "PROMPTOPS_BASE_URL must be an http(s) URL such as 'https://api.promptops.com', "
                "got 'api.promptops.com'",
            ),
        ),
        (
            "ftp://api.promptops.com",
            (
                "failure",
                "PROMPTOPS_BASE_URL must be an http(s) URL such as 'https://api.promptops.com', "
                "got 'ftp://api.promptops.com'",
            ),
        ),
        (
            "https://api.promptops.com:0",
            ("failure", "PROMPTOPS_BASE_URL has port 0: ports are 1 to 65535"),
        ),
    ],
)
def test_each_base_url_finding_s_exact_words(base_url: str, expected: tuple[str, str]) -> None:
    assert found(with_key(PROMPTOPS_BASE_URL=base_url), "base-url") == expected


def test_an_invalid_international_host_is_a_finding_never_an_idna_exception() -> None:
    """It once escaped as `idna.core.InvalidCodepoint`, a traceback."""
    report = check(with_key(PROMPTOPS_BASE_URL="https://xn--a.com"))
    statuses = {f.id: f.status for f in report.findings}
    assert statuses == {
        "api-key": "ok",
        "base-url": "failure",
        "proxy": "skipped",  # it needs the base URL's scheme and host
        "ca-bundle": "ok",
    }
    assert "invalid host name" in report.findings[1].detail
    assert report.exit_code == 2


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
def test_bad_base_urls_fail_once_shown_without_secrets(base_url: str, message: str) -> None:
    report = check(with_key(PROMPTOPS_BASE_URL=base_url))
    assert [(f.id, f.detail) for f in report.findings if f.status == "failure"] == [
        ("base-url", message)
    ]
    text = str(report)
    assert "po_live_in_url" not in text and "alice" not in text


# -- the proxy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HTTP_PROXY": "http://p:3128"}, ("ok", "none: requests go direct")),  # for http only
        (
            {"HTTPS_PROXY": "http://bob:pw@proxy:3128"},
            ("ok", "requests to api.promptops.com go through http://***@proxy:3128 (HTTPS_PROXY)"),
        ),
        (
            {"https_proxy": "http://p:3128", "HTTPS_PROXY": "http://q:3128"},
            ("ok", "requests to api.promptops.com go through http://p:3128 (https_proxy)"),
        ),
        (
            {"ALL_PROXY": "proxy.corp:3128"},  # no scheme: http://, as httpx reads it
            ("ok", "requests to api.promptops.com go through http://proxy.corp:3128 (ALL_PROXY)"),
        ),
        (
            {
                "PROMPTOPS_BASE_URL": "http://localhost:8080",
                "HTTPS_PROXY": "http://p:3128",
                "HTTP_PROXY": "http://q:3128",
            },
            ("ok", "requests to localhost go through http://q:3128 (HTTP_PROXY)"),
        ),
        (
            {"HTTPS_PROXY": "https://proxy:3128"},
            (
                "warning",
                "requests to api.promptops.com go through https://proxy:3128 (HTTPS_PROXY); an "
                "https:// proxy URL: most proxies speak plain HTTP on their port (http://); with "
                "https:// the TLS handshake fails with WRONG_VERSION_NUMBER",
            ),
        ),
        (
            {"HTTPS_PROXY": "ftp://proxy"},
            (
                "failure",
                "HTTPS_PROXY names a ftp:// proxy ('ftp://proxy'): httpx supports http, https "
                "and socks5 proxies",
            ),
        ),
        (
            {"PROMPTOPS_BASE_URL": "http://127.0.0.1:8080", "HTTP_PROXY": "http://[::1"},
            ("failure", "HTTP_PROXY is not a proxy URL ('http://[::1'): Invalid port: ':1'"),
        ),
        (
            {"HTTPS_PROXY": "http://alice:s3cret@[::1"},
            ("failure", "HTTPS_PROXY is not a proxy URL ('http://***@[::1'): Invalid port: ':1'"),
        ),
        (
            {"HTTPS_PROXY": "http://:3128"},
            ("failure", "HTTPS_PROXY names no proxy host ('http://:3128')"),
        ),
    ],
)
def test_each_proxy_finding_s_exact_words(
    environ: dict[str, str], expected: tuple[str, str]
) -> None:
    assert found(with_key(**environ), "proxy") == expected


def test_a_socks_proxy_without_socksio_fails_naming_the_variable(no_socksio: None) -> None:
    report = check(with_key(ALL_PROXY="socks5://proxy:1080"))
    (finding,) = [f for f in report.findings if f.id == "proxy"]
    assert (finding.status, finding.detail) == (
        "failure",
        "ALL_PROXY names a SOCKS proxy ('socks5://proxy:1080'), which needs the socksio "
        "package: pip install 'httpx[socks]'",
    )
    assert finding.fix == PROXY_FIX


def test_a_socks_proxy_with_socksio_is_the_one_requests_go_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    find_spec = importlib.util.find_spec

    def with_socksio(name: str, package: str | None = None) -> ModuleSpec | None:
        return ModuleSpec("socksio", None) if name == "socksio" else find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", with_socksio)
    assert found(with_key(ALL_PROXY="socks5://proxy:1080"), "proxy") == (
        "ok",
        "requests to api.promptops.com go through socks5://proxy:1080 (ALL_PROXY)",
    )


@pytest.mark.parametrize(
    "no_proxy",
    [
        "*",
        ".promptops.com",
        "promptops.com",
        "api.promptops.com",
        "localhost, .promptops.com",
        "localhost,api.promptops.com",
        "https://api.promptops.com",
    ],
)
def test_no_proxy_sends_the_api_direct_naming_the_variable(no_proxy: str) -> None:
    environ = with_key(HTTPS_PROXY="http://p:3128", NO_PROXY=no_proxy)
    assert found(environ, "proxy") == ("ok", "none: NO_PROXY sends api.promptops.com direct")
    environ = with_key(https_proxy="http://p:3128", no_proxy=no_proxy)
    assert found(environ, "proxy") == ("ok", "none: no_proxy sends api.promptops.com direct")


@pytest.mark.parametrize(
    "no_proxy",
    [
        "ops.com",
        "other.promptops.com",
        "*.promptops.com",
        "http://api.promptops.com",
        "api.promptops.com:8443",
        "127.0.0.1",
        "localhost",
    ],
)
def test_a_no_proxy_entry_for_another_host_leaves_the_proxy_in_place(no_proxy: str) -> None:
    environ = with_key(HTTPS_PROXY="http://p:3128", NO_PROXY=no_proxy)
    assert found(environ, "proxy") == (
        "ok",
        "requests to api.promptops.com go through http://p:3128 (HTTPS_PROXY)",
    )


def test_a_no_proxy_entry_httpx_cannot_parse_is_passed_over_not_raised() -> None:
    """`[::1]` (brackets) fails httpx's own reading of NO_PROXY; the client never hands httpx
    such an entry, and the entries after it still count."""
    environ = with_key(HTTPS_PROXY="http://p:3128", NO_PROXY="[::1], .promptops.com")
    assert found(environ, "proxy") == ("ok", "none: NO_PROXY sends api.promptops.com direct")


def test_no_proxy_exempts_a_bad_proxy_too() -> None:
    """httpx never uses a proxy NO_PROXY sets aside, so it cannot fail the client."""
    environ = with_key(HTTPS_PROXY="ftp://proxy", NO_PROXY="*")
    assert found(environ, "proxy") == ("ok", "none: NO_PROXY sends api.promptops.com direct")


PROXY_ENVIRONMENTS = [
    {"HTTPS_PROXY": "http://p.example:3128"},
    {"HTTP_PROXY": "http://p.example:3128"},
    {"ALL_PROXY": "http://p.example:3128"},
    {"all_proxy": "http://p.example:3128", "HTTPS_PROXY": "http://q.example:3128"},
    {"https_proxy": "", "HTTPS_PROXY": "http://q.example:3128"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "localhost, .promptops.com"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "localhost,.promptops.com"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "promptops.com"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "api.promptops.com"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*.promptops.com"},
    {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "ops.com"},
    {"HTTPS_PROXY": "http://p.example:3128", "no_proxy": "https://api.promptops.com"},
    {"ALL_PROXY": "http://p.example:3128", "NO_PROXY": "http://api.promptops.com"},
    {"ALL_PROXY": "http://p.example:3128", "NO_PROXY": "api.promptops.com:8443"},
    {"ALL_PROXY": "http://p.example:3128", "NO_PROXY": "api.promptops.com:443"},
    {"ALL_PROXY": "http://p.example:3128", "NO_PROXY": "::1, 10.0.0.0/8,, localhost"},
]


@pytest.mark.parametrize("environ", PROXY_ENVIRONMENTS)
@pytest.mark.parametrize(
    "base_url",
    ["https://api.promptops.com", "http://api.promptops.com", "https://api.promptops.com:8443"],
)
def test_the_proxy_read_is_the_one_httpx_itself_would_choose(
    environ: dict[str, str], base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transport httpx picks for the URL from the same environment: a proxy's, or its
    own (direct). The client hands httpx this choice, with `trust_env=False`."""
    clean_environment(monkeypatch)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    client = httpx.Client(verify=TLS)
    direct = client._transport_for_url(httpx.URL(base_url)) is client._transport
    assert (read_proxy(environ, base_url).value is None) == direct


# -- the CAs --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file holding one CA: a company's, alone."""
    path = tmp_path_factory.mktemp("ca") / "company.pem"
    path.write_bytes(trustme.CA().cert_pem.bytes())
    return path


def test_a_bundle_of_many_cas_is_ok_and_counted() -> None:
    status, detail = found(with_key(SSL_CERT_FILE=certifi.where()), "ca-bundle")
    assert status == "ok"
    assert detail.startswith(f"SSL_CERT_FILE={certifi.where()} (") and detail.endswith(" CAs)")
    assert int(detail.rpartition("(")[2].split()[0]) > 100


def test_a_file_of_one_ca_is_a_warning_that_it_replaces_the_public_ones(one_ca: Path) -> None:
    assert found(with_key(SSL_CERT_FILE=str(one_ca)), "ca-bundle") == (
        "warning",
        f"SSL_CERT_FILE={one_ca} (1 CAs); it holds 1 CA certificate: SSL_CERT_FILE replaces the "
        "public CAs; a company's CA alone fails every other site",
    )


def test_a_folder_of_cas_is_ok(tmp_path: Path) -> None:
    assert found(with_key(SSL_CERT_DIR=str(tmp_path)), "ca-bundle") == (
        "ok",
        f"SSL_CERT_DIR={tmp_path}",
    )


def test_ssl_cert_dir_that_is_not_a_folder_fails(one_ca: Path) -> None:
    assert found(with_key(SSL_CERT_DIR=str(one_ca)), "ca-bundle") == (
        "failure",
        f"SSL_CERT_DIR={str(one_ca)!r} is not a folder",
    )


def test_a_missing_ca_file_fails_saying_so_once() -> None:
    assert found(with_key(SSL_CERT_FILE="/nonexistent/ca.pem"), "ca-bundle") == (
        "failure",
        "SSL_CERT_FILE='/nonexistent/ca.pem' cannot be loaded: No such file or directory",
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a certificate\n", "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found"),
        (
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
            "[X509] PEM lib",
        ),
    ],
    ids=["text", "broken-pem"],
)
def test_a_ca_file_that_is_no_pem_bundle_fails_with_openssl_s_reason_and_no_source_line(
    content: bytes, reason: str, tmp_path: Path
) -> None:
    """Not `(_ssl.c:4147)`: the line of Python's source differs between versions, and the
    pages show this text."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(content)
    assert found(with_key(SSL_CERT_FILE=str(bundle)), "ca-bundle") == (
        "failure",
        f"SSL_CERT_FILE={str(bundle)!r} cannot be loaded: {reason}",
    )


def test_a_folder_given_as_the_ca_file_fails(tmp_path: Path) -> None:
    assert found(with_key(SSL_CERT_FILE=str(tmp_path)), "ca-bundle") == (
        "failure",
        f"SSL_CERT_FILE={str(tmp_path)!r} cannot be loaded: Is a directory",
    )


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_requests_ca_bundle_alone_is_a_warning_that_httpx_ignores_it(variable: str) -> None:
    assert found(with_key(**{variable: "/etc/ca.pem"}), "ca-bundle") == (
        "warning",
        f"certifi's CAs; {variable} set, but httpx and this client read SSL_CERT_FILE",
    )


def test_requests_ca_bundle_beside_ssl_cert_file_is_not_a_warning() -> None:
    environ = with_key(REQUESTS_CA_BUNDLE="/etc/ca.pem", SSL_CERT_FILE=certifi.where())
    assert found(environ, "ca-bundle")[0] == "ok"


# -- the report -----------------------------------------------------------------------------


def test_secrets_are_never_printed() -> None:
    environ = {
        "PROMPTOPS_API_KEY": f'"{KEY}"',
        "HTTPS_PROXY": "http://alice:s3cret@proxy:3128",
    }
    report = check(environ)
    assert report.exit_code == 2
    shown = str(report) + json.dumps(report.as_json())
    assert KEY not in shown and "s3cret" not in shown and "alice" not in shown


def test_the_settings_come_from_the_environment_given_not_the_process_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "ftp://wrong")
    monkeypatch.setenv("HTTPS_PROXY", "ftp://wrong")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    assert {f.status for f in check(with_key()).findings} == {"ok"}


def test_every_check_finds_a_problem_and_none_stops_another() -> None:
    environ = {
        "PROMPTOPS_API_KEY": f"'{KEY}'",
        "PROMPTOPS_BASE_URL": "http://x.io",
        "HTTP_PROXY": "ftp://proxy",
        "SSL_CERT_DIR": "/nonexistent",
    }
    report = check(environ)
    assert [(f.id, f.status) for f in report.findings] == [
        ("api-key", "failure"),
        ("base-url", "warning"),  # a warning is no failure: the proxy is still checked
        ("proxy", "failure"),
        ("ca-bundle", "failure"),
    ]
    assert str(report).splitlines()[-1] == "0 ok, 1 warning, 3 failures, 0 skipped"


def test_command_line_mock_run_says_it_is_simulated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_environment(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "ftp://set-aside-by-mock")
    assert config_doctor.main(["--mock"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "PromptOps config doctor: https://api.promptops.com (simulated API: --mock healthy)",
        "ok    API key               the mock API's key, set by --mock",
        "ok    Base URL              default (https://api.promptops.com)",
        "ok    Proxy                 none: requests go direct",
        "ok    CA bundle             certifi's CAs",
        "4 ok, 0 warnings, 0 failures, 0 skipped",
    ]
    assert "PROMPTOPS_API_KEY" not in os.environ  # put back as it was


@pytest.mark.parametrize(
    ("environ", "exit_code"),
    [
        ({"PROMPTOPS_API_KEY": KEY}, 0),
        ({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://x.io"}, 1),
        ({"PROMPTOPS_API_KEY": f"'{KEY}'"}, 2),
    ],
)
def test_command_line_json_and_exit_code_without_mock(
    environ: dict[str, str],
    exit_code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No `--mock`: the process's environment (nothing is sent anywhere by this tool)."""
    clean_environment(monkeypatch)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert config_doctor.main(["--json"]) == exit_code
    report = json.loads(capsys.readouterr().out)
    assert report["tool"] == "config-doctor" and report["simulated"] is None
    assert report["exit_code"] == exit_code
    assert [c["id"] for c in report["checks"]] == ["api-key", "base-url", "proxy", "ca-bundle"]
    assert KEY not in json.dumps(report)
