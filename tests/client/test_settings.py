"""The settings the client reads from its environment (snippets/client/settings.py): the one
reading of the key, the base URL, the proxy and the CAs, for the client and every tool."""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path

import httpcore
import httpx
import pytest
import trustme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets.client import ConfigurationError, PromptOpsClient, read_settings
from snippets.client.clock import FakeClock
from snippets.client.settings import (
    Trust,
    read_api_key,
    read_base_url,
    read_proxy,
    read_trust,
)
from snippets.mock_api import MockPromptOpsAPI

KEY = "po_live_7d1f3b9e5a2c"

# -- the key ------------------------------------------------------------------------------


def test_a_key_with_spaces_around_it_is_stripped_not_a_warning() -> None:
    """The client sends the key without them: nothing to warn of (the tools say it)."""
    key = read_api_key({"PROMPTOPS_API_KEY": f"  {KEY}\n"})
    assert (key.value, key.source, key.notes) == (KEY, "PROMPTOPS_API_KEY", ())


def test_a_key_argument_wins_over_the_variable() -> None:
    key = read_api_key({"PROMPTOPS_API_KEY": "po_from_env"}, KEY)
    assert (key.value, key.source, key.notes) == (KEY, "api_key", ())


@pytest.mark.parametrize("key", [f"'{KEY}", f'{KEY}"'])
def test_a_key_with_a_quote_at_one_end_is_sent_but_noted(key: str) -> None:
    assert read_api_key({}, key).notes == (
        "it starts or ends with a quote: copied with part of a .env line?",
    )


def test_a_key_has_no_format_beyond_what_a_header_carries() -> None:
    """The contract says `Bearer <api key>`: no prefix is required, none is warned about."""
    assert read_api_key({}, "sk-anything_0123").notes == ()


@pytest.mark.parametrize("value", [None, "", "   \n"])
def test_no_key_names_both_ways_to_give_one(value: str | None) -> None:
    environ = {} if value is None else {"PROMPTOPS_API_KEY": value}
    with pytest.raises(ConfigurationError) as caught:
        read_api_key(environ)
    assert str(caught.value) == (
        "No API key: pass api_key=... or set the PROMPTOPS_API_KEY environment variable"
    )


def test_a_quoted_key_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        read_api_key({"PROMPTOPS_API_KEY": f'"{KEY}"'})
    assert str(caught.value).startswith("The API key (PROMPTOPS_API_KEY) has quotes around it")


# -- the base URL -------------------------------------------------------------------------


def test_no_base_url_is_the_default() -> None:
    url = read_base_url({})
    assert (url.value, url.source, url.notes) == ("https://api.promptops.com", "default", ())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://xn--a.com", "'https://xn--a.com'"),
        ("https://xn--zz-.com", "'https://xn--zz-.com'"),
    ],
)
def test_a_host_that_is_not_valid_idna_is_a_configuration_error(value: str, shown: str) -> None:
    """httpx raises idna's own exception for these; the client names the setting instead."""
    with pytest.raises(ConfigurationError) as caught:
        read_base_url({"PROMPTOPS_BASE_URL": value})
    assert str(caught.value).startswith(f"PROMPTOPS_BASE_URL has an invalid host name ({shown}): ")


@pytest.mark.parametrize("value", ["https://ex ample.com", "https://a..b", "https://-a.com"])
def test_a_host_that_is_no_dns_name_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        read_base_url({}, value)
    assert str(caught.value) == f"base_url has an invalid host name, got {value!r}"


def test_an_international_host_name_is_accepted() -> None:
    """Sent as IDNA (punycode), as httpx sends it."""
    assert read_base_url({}, "https://bücher.example").value == "https://xn--bcher-kva.example"


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]
)
def test_plain_http_to_this_machine_is_fine(value: str) -> None:
    assert read_base_url({}, value).notes == ()


def test_plain_http_to_another_host_is_noted_the_key_would_travel_unencrypted() -> None:
    assert read_base_url({}, "http://api.internal.example").notes == (
        "plain http to api.internal.example: the key and every prompt travel unencrypted; "
        "use https",
    )


def test_a_path_in_the_base_url_is_noted() -> None:
    assert read_base_url({}, "https://api.promptops.com/v1").notes == (
        "it has a path (/v1): the API root has none",
    )


# -- the proxy ----------------------------------------------------------------------------

PROXY_VARIABLES = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
]


def _httpx_choice(url: str) -> str | None:
    """The proxy httpx itself sends a request for `url` through, from `os.environ`."""
    client = httpx.AsyncClient(trust_env=True, verify=False)
    pool = client._transport_for_url(httpx.URL(url))._pool  # type: ignore[attr-defined]
    if not isinstance(pool, httpcore.AsyncHTTPProxy):
        return None
    proxy: httpcore.URL = pool._proxy_url
    return f"{proxy.scheme.decode()}://{proxy.host.decode()}:{proxy.port}"


def _ours(environ: dict[str, str], url: str) -> str | None:
    chosen = read_proxy(environ, url).value
    if chosen is None:
        return None
    parsed = httpx.URL(chosen.url)
    return f"{parsed.scheme}://{parsed.raw_host.decode()}:{parsed.port}"


CASES: list[tuple[dict[str, str], str]] = [
    ({}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128"}, "https://api.promptops.com"),
    (
        {"https_proxy": "http://low:3128", "HTTPS_PROXY": "http://up:3128"},
        "https://api.promptops.com",
    ),
    ({"HTTPS_PROXY": "http://up:3128", "https_proxy": ""}, "https://api.promptops.com"),
    ({"HTTP_PROXY": "http://p:3128"}, "https://api.promptops.com"),
    ({"HTTP_PROXY": "http://p:3128"}, "http://api.internal.example"),
    ({"ALL_PROXY": "http://all:3128"}, "https://api.promptops.com"),
    ({"ALL_PROXY": "http://all:3128", "HTTPS_PROXY": "http://s:3128"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "p:3128"}, "https://api.promptops.com"),
    (
        {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "api.promptops.com"},
        "https://api.promptops.com",
    ),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "promptops.com"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".promptops.com"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".promptops.com"}, "https://promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "ops.com"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "*"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "x.com, *"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "*.promptops.com"}, "https://api.promptops.com"),
    (
        {"HTTPS_PROXY": "http://p:3128", "no_proxy": "API.PROMPTOPS.COM"},
        "https://api.promptops.com",
    ),
    ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "127.0.0.1"}, "http://127.0.0.1:8080"),
    ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "::1"}, "http://[::1]:8080"),
    ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "localhost"}, "http://localhost:8080"),
    ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "10.0.0.0/8"}, "http://10.1.2.3"),
    ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "10.0.0.0/8"}, "http://10.0.0.0"),
    (
        {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "https://api.promptops.com"},
        "https://api.promptops.com",
    ),
    (
        {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "http://api.promptops.com"},
        "https://api.promptops.com",
    ),
    (
        {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "api.promptops.com:443"},
        "https://api.promptops.com",
    ),
    ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "api.internal:8080"}, "http://api.internal:8080"),
    (
        {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": " api.promptops.com ,x"},
        "https://api.promptops.com",
    ),
    ({"HTTPS_PROXY": "http://[::1]:3128"}, "https://api.promptops.com"),
    ({"HTTPS_PROXY": "http://user:pw@p:3128"}, "https://api.promptops.com"),
    ({"HTTP_PROXY": "http://p:3128", "REQUEST_METHOD": "GET"}, "http://api.internal.example"),
]


@pytest.fixture
def clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(("environ", "url"), CASES)
def test_the_proxy_is_the_one_httpx_itself_chooses_from_the_same_variables(
    environ: dict[str, str], url: str, clean_proxy_environment: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        clean_proxy_environment.setenv(name, value)
    assert _ours(environ, url) == _httpx_choice(url)


HOSTS = ["api.promptops.com", "promptops.com", "127.0.0.1", "localhost", "api.internal"]
ENTRIES = st.sampled_from(
    ["api.promptops.com", ".promptops.com", "promptops.com", "ops.com", "*", "127.0.0.1",
     "localhost", "api.internal", "internal", "https://api.promptops.com", "x.example", ""]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    host=st.sampled_from(HOSTS),
    scheme=st.sampled_from(["http", "https"]),
    names=st.sets(st.sampled_from(["HTTP_PROXY", "https_proxy", "ALL_PROXY", "HTTPS_PROXY"])),
    no_proxy=st.lists(ENTRIES, max_size=3),
)
def test_any_mix_of_proxy_variables_gives_httpx_s_choice(
    host: str,
    scheme: str,
    names: set[str],
    no_proxy: list[str],
    clean_proxy_environment: pytest.MonkeyPatch,
) -> None:
    environ = {name: f"http://{name.lower()}:3128" for name in names}
    if no_proxy:
        environ["NO_PROXY"] = ",".join(no_proxy)
    for name in PROXY_VARIABLES:
        clean_proxy_environment.delenv(name, raising=False)
    for name, value in environ.items():
        clean_proxy_environment.setenv(name, value)
    url = f"{scheme}://{host}"
    assert _ours(environ, url) == _httpx_choice(url)


def test_the_client_hands_httpx_that_proxy_and_lets_it_read_nothing_itself(
    clean_proxy_environment: pytest.MonkeyPatch,
) -> None:
    clean_proxy_environment.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    clean_proxy_environment.setenv("HTTP_PROXY", "ftp://would-break-httpx")

    async def main() -> str | None:
        async with PromptOpsClient(KEY) as client:
            assert client._http is not None and client._http.trust_env is False
            pool = client._http._transport_for_url(httpx.URL(client.base_url))._pool  # type: ignore[attr-defined]
            return str(pool._proxy_url.host.decode()) if hasattr(pool, "_proxy_url") else None

    assert asyncio.run(main()) == "proxy.corp"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"ALL_PROXY": "socks5://proxy:1080"},
            "ALL_PROXY names a SOCKS proxy ('socks5://proxy:1080'), which needs the socksio "
            "package: pip install 'httpx[socks]'",
        ),
        (
            {"HTTPS_PROXY": "ftp://proxy"},
            "HTTPS_PROXY names a ftp:// proxy ('ftp://proxy'): httpx supports http, https and "
            "socks5 proxies",
        ),
        (
            {"https_proxy": "http://[::1"},
            "https_proxy is not a proxy URL ('http://[::1'): Invalid port: ':1'",
        ),
    ],
)
def test_a_proxy_httpx_could_not_use_is_a_configuration_error_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        read_proxy(environ, "https://api.promptops.com")
    assert str(caught.value) == message


def test_a_broken_proxy_variable_for_another_scheme_is_not_read() -> None:
    """httpx with trust_env would fail on it; the client, told which proxy to use, does not."""
    chosen = read_proxy({"HTTP_PROXY": "ftp://proxy"}, "https://api.promptops.com")
    assert (chosen.value, chosen.source) == (None, "default")


def test_an_https_proxy_url_is_noted_most_proxies_speak_plain_http() -> None:
    chosen = read_proxy({"HTTPS_PROXY": "https://proxy:3128"}, "https://api.promptops.com")
    assert chosen.notes == (
        "an https:// proxy URL: most proxies speak plain HTTP on their port (http://); with "
        "https:// the TLS handshake fails with WRONG_VERSION_NUMBER",
    )


def test_a_proxy_s_credentials_stay_out_of_its_repr_and_shown_url() -> None:
    chosen = read_proxy({"HTTPS_PROXY": "http://alice:s3cret@proxy:3128"}, "https://x.example")
    assert chosen.value is not None
    assert chosen.value.shown == "http://***@proxy:3128"
    assert "s3cret" not in repr(chosen)


def test_no_proxy_names_the_variable_that_sent_the_host_direct() -> None:
    chosen = read_proxy(
        {"HTTPS_PROXY": "http://p:3128", "no_proxy": "promptops.com"}, "https://api.promptops.com"
    )
    assert (chosen.value, chosen.source) == (None, "no_proxy")


# -- the CAs ------------------------------------------------------------------------------


def test_no_ca_variable_is_certifi() -> None:
    trust = read_trust({})
    assert (trust.value, trust.source, trust.notes) == (Trust(), "default", ())
    assert trust.value.shown == "certifi's CAs"


def test_a_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ConfigurationError) as caught:
        read_trust({"SSL_CERT_FILE": str(missing)})
    assert str(caught.value) == (
        f"SSL_CERT_FILE={str(missing)!r} cannot be loaded: No such file or directory"
    )


def test_a_file_of_one_ca_is_noted_it_replaces_the_public_cas(tmp_path: Path) -> None:
    bundle = tmp_path / "company.pem"
    bundle.write_bytes(trustme.CA().cert_pem.bytes())
    trust = read_trust({"SSL_CERT_FILE": str(bundle)})
    assert trust.value.count() == 1
    assert trust.notes == (
        "it holds 1 CA certificate: SSL_CERT_FILE replaces the public CAs; a company's CA "
        "alone fails every other site",
    )


def test_a_ca_folder_that_is_not_one_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        read_trust({"SSL_CERT_DIR": str(tmp_path / "nope")})
    assert str(caught.value) == f"SSL_CERT_DIR={str(tmp_path / 'nope')!r} is not a folder"


def test_requests_ca_bundle_alone_is_noted_httpx_ignores_it() -> None:
    assert read_trust({"REQUESTS_CA_BUNDLE": "/etc/corp.pem"}).notes == (
        "REQUESTS_CA_BUNDLE set, but httpx and this client read SSL_CERT_FILE",
    )


def test_a_rebuilt_bundle_is_loaded_by_the_next_client_not_the_one_made_before(
    tmp_path: Path,
) -> None:
    """Read at construction, once per file as it is: a new client sees the new bundle."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(trustme.CA().cert_pem.bytes())
    first = Trust(cafile=str(bundle)).context()
    assert Trust(cafile=str(bundle)).context() is first  # loaded once
    bundle.write_bytes(trustme.CA().cert_pem.bytes() + trustme.CA().cert_pem.bytes())
    os.utime(bundle, ns=(1, 1))  # a new modification time, whatever the file system's clock
    rebuilt = Trust(cafile=str(bundle)).context()
    assert rebuilt is not first
    assert rebuilt.cert_store_stats()["x509_ca"] == 2


def test_the_client_trusts_the_bundle_the_settings_name(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(trustme.CA().cert_pem.bytes())
    settings_ = read_settings({"PROMPTOPS_API_KEY": KEY, "SSL_CERT_FILE": str(bundle)})
    client = PromptOpsClient(settings=settings_)
    assert isinstance(client._verify, ssl.SSLContext)
    assert client._verify.cert_store_stats()["x509_ca"] == 1


# -- all of them, and the client ----------------------------------------------------------


def test_settings_without_a_key_for_public_calls_only() -> None:
    assert read_settings({}, require_key=False).api_key is None


def test_settings_and_a_key_argument_together_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(KEY, settings=read_settings({}, require_key=False))
    assert str(caught.value) == "pass settings, or api_key and base_url: not both"


def test_a_client_without_a_key_probes_without_sending_one_and_refuses_calls_that_need_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def main() -> tuple[int, str | None]:
        async with PromptOpsClient(settings=read_settings({}, require_key=False), clock=clock) as c:
            probe = await c.probe("/v1/client/health")
            with pytest.raises(ConfigurationError) as caught:
                await c.health_check()
            assert str(caught.value) == (
                "No API key: GET /v1/client/health needs one (this client was made without a "
                "key for public endpoints)"
            )
            return probe.status, probe.code

    assert asyncio.run(main()) == (401, "AUTHENTICATION_ERROR")
    assert "Authorization" not in mock_api.requests[0].headers


def test_the_client_logs_each_note_once_made(caplog: pytest.LogCaptureFixture) -> None:
    PromptOpsClient(KEY, base_url="http://api.internal.example")
    assert [r.getMessage() for r in caplog.records if r.name == "promptops"] == [
        "PromptOps client: base_url: plain http to api.internal.example: the key and "
        "every prompt travel unencrypted; use https"
    ]
