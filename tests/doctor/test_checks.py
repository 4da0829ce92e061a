"""Every check of the doctor (snippets/doctor/checks.py) on each of its paths: ok, warning,
failure, skipped, wherever the check has that path.

Each `World` is one run of the doctor against the mock API, on fake time, with a TLS server on
127.0.0.1 standing in for the API's host; it states what some of the checks must find. The
last test checks that the worlds cover every path of every check.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest

from snippets.client import AuthenticationError, PromptOpsClient, ServerError
from snippets.client.clock import FakeClock
from snippets.doctor import CHECKS, Status, checks
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.tls import LocalTLSServer
from snippets.offline import LASTING, no_dns, tls_stand_in

from .helpers import HOST, SETTINGS, by_id, diagnose


@dataclass
class World:
    """What one run starts from: the mock API, the settings, the doctor's options."""

    api: MockPromptOpsAPI
    clock: FakeClock
    environ: dict[str, str] = field(default_factory=lambda: dict(SETTINGS))
    options: dict[str, Any] = field(default_factory=dict)


Setup = Callable[[World], None]


def nothing(world: World) -> None:
    pass


def settings(**values: str | None) -> Setup:
    def setup(world: World) -> None:
        for name, value in values.items():
            if value is None:
                world.environ.pop(name, None)
            else:
                world.environ[name] = value

    return setup


def options(**values: Any) -> Setup:
    def setup(world: World) -> None:
        world.options.update(values)

    return setup


def on_api(change: Callable[[MockPromptOpsAPI], object]) -> Setup:
    def setup(world: World) -> None:
        change(world.api)

    return setup


def closed_port() -> tuple[str, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return "127.0.0.1", int(probe.getsockname()[1])


def headroom(remaining: int, limit: int, fields: str = "RateLimit-") -> Setup:
    """The API sends the IETF RateLimit fields, or the older `X-RateLimit-` ones (the contract
    requires neither)."""

    def setup(world: World) -> None:
        own = world.api._headers

        def with_rate_limit() -> dict[str, str]:
            counts = {f"{fields}Limit": str(limit), f"{fields}Remaining": str(remaining)}
            return {**own(), **counts}

        world.api._headers = with_rate_limit  # type: ignore[method-assign]

    return setup


def certificate_expiring_in(days: int) -> Setup:
    """OpenSSL checks validity against the real clock: the doctor's clock is set to it."""

    def setup(world: World) -> None:
        now = datetime.now(UTC)
        world.clock.advance(now.timestamp() - world.clock.time())
        world.options["valid_until"] = now + timedelta(days=days, hours=1)

    return setup


@dataclass(frozen=True)
class World_:
    name: str
    setup: Setup
    expect: dict[str, tuple[Status, str]]
    """Check id -> (status, its detail; or, after "...", how its detail ends)."""
    fixes: dict[str, str]
    """Check id -> the fix line it prints, where the finding has a fix of its own."""


def world(
    name: str, *setups: Setup, fixes: dict[str, str] | None = None, **expect: tuple[Status, str]
) -> World_:
    def setup(w: World) -> None:
        for one in setups:
            one(w)

    expected = {check.replace("_", "-"): e for check, e in expect.items()}
    return World_(name, setup, expected, fixes or {})


WORLDS = [
    world(
        "healthy",
        nothing,
        api_key=("ok", "PROMPTOPS_API_KEY is set (27 characters)"),
        base_url=("ok", "default (https://api.promptops.com)"),
        proxy=("ok", "none"),
        ca_bundle=("ok", "default (certifi)"),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
        tcp=("ok", "api.promptops.com:443 accepts connections"),
        tls=("ok", "...issued by PromptOps Mock CA, expires 2099-12-31 (27027 days left)"),
        public_health=("ok", "GET /v1/health: HTTP 200 in 0 ms"),
        clock=("ok", "clock within 0 s of the server"),
        rate_limit=("ok", "not limited (the API sends no remaining count)"),
        auth=("ok", "key and signature accepted (API 2026.11.0)"),
        round_trip=("ok", "hello-world v3 fetched and rendered (14 characters)"),
        latency=("ok", "p50 0 ms, p95 0 ms uncached; p50 0 ms, p95 0 ms cached (5 calls each)"),
    ),
    world(
        "key without the po_ prefix",
        settings(PROMPTOPS_API_KEY="sk_live_4f9c2a7d1e"),
        api_key=("warning", "PROMPTOPS_API_KEY does not start with 'po_'"),
        auth=("failure", "AUTHENTICATION_ERROR: Invalid API key or signature"),
    ),
    world(
        "no key",
        settings(PROMPTOPS_API_KEY=None),
        api_key=("failure", "PROMPTOPS_API_KEY is not set"),
        rate_limit=("skipped", "needs API key, which failed"),
        auth=("skipped", "needs API key, which failed"),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
    ),
    world(
        "key in quotes",
        settings(PROMPTOPS_API_KEY='"po_live_4f9c2a7d1e"'),
        api_key=("failure", "PROMPTOPS_API_KEY has spaces or quotes around it"),
        latency=("skipped", "needs API key, which failed"),
    ),
    world(
        "base URL with a path, requests behind a proxy, the requests library's CA variable",
        settings(
            PROMPTOPS_BASE_URL="https://api.promptops.com/v1",
            HTTPS_PROXY="http://alice:s3cret@proxy.corp.example:3128",
            REQUESTS_CA_BUNDLE="/etc/corp/ca.pem",
        ),
        base_url=("warning", "PROMPTOPS_BASE_URL has a path (/v1); use the root"),
        proxy=(
            "warning",
            "requests go through http://proxy.corp.example:3128: check it allows api.promptops.com",
        ),
        ca_bundle=("warning", "REQUESTS_CA_BUNDLE is set but httpx reads SSL_CERT_FILE"),
        dns=("ok", "proxy.corp.example resolves to 203.0.113.10"),
        tcp=("ok", "proxy.corp.example:3128 (the proxy) accepts connections"),
        tls=(
            "skipped",
            "through the proxy proxy.corp.example:3128: Public health checks TLS end to end",
        ),
    ),
    world(
        "a proxy at an IPv6 address",
        settings(HTTPS_PROXY="http://[::1]:3128"),
        dns=("ok", "::1 resolves to ::1"),
        tcp=("ok", "[::1]:3128 (the proxy) accepts connections"),
        tls=("skipped", "through the proxy [::1]:3128: Public health checks TLS end to end"),
    ),
    world(
        "proxy the host is exempt from",
        settings(HTTPS_PROXY="http://proxy.corp.example:3128", NO_PROXY=".promptops.com"),
        proxy=("ok", "none: NO_PROXY sends api.promptops.com direct"),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
        tls=("ok", "...issued by PromptOps Mock CA, expires 2099-12-31 (27027 days left)"),
    ),
    world(
        "base URL that is not a URL",
        settings(PROMPTOPS_BASE_URL="api.promptops.com"),
        base_url=(
            "failure",
            "PROMPTOPS_BASE_URL must be an http(s) URL such as 'https://api.promptops.com', got "
            "'api.promptops.com'",
        ),
        dns=("skipped", "needs Base URL, which failed"),
        public_health=("skipped", "needs Base URL, which failed"),
    ),
    world(
        "plain http",
        settings(PROMPTOPS_BASE_URL="http://localhost:8080"),
        base_url=("ok", "http://localhost:8080"),
        tls=("skipped", "not used: the base URL is plain http"),
    ),
    world(
        "CA bundle that is not there",
        settings(SSL_CERT_FILE="/nonexistent/ca.pem"),
        ca_bundle=("failure", "SSL_CERT_FILE points to a missing file: /nonexistent/ca.pem"),
        tcp=("ok", "api.promptops.com:443 accepts connections"),
        tls=("skipped", "needs CA bundle, which failed"),
    ),
    world(
        "no DNS",
        options(resolve=no_dns),
        dns=("failure", "api.promptops.com does not resolve: [Errno -2] Name or service not known"),
        tcp=("skipped", "needs DNS, which failed"),
        latency=("skipped", "needs DNS, which failed"),
    ),
    world(
        "nothing listening",
        options(connect_to=closed_port()),
        tcp=("failure", "api.promptops.com:443: [Errno 111] Connection refused"),
        tls=("skipped", "needs TCP connect, which failed"),
        fixes={
            "tcp": "Allow outbound connections to api.promptops.com:443, or set HTTPS_PROXY if "
            "the network requires a proxy"
        },
    ),
    world(
        "an untrusted CA",
        options(trusted=False),
        tls=("failure", "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate"),
        public_health=("skipped", "needs TLS, which failed"),
    ),
    world(
        "a certificate expiring in 10 days",
        certificate_expiring_in(10),
        tls=("warning", "...(10 days left)"),
        public_health=("ok", "GET /v1/health: HTTP 200 in 0 ms"),
    ),
    world(
        "server errors",
        on_api(lambda api: api.server_error(times=LASTING)),
        public_health=("failure", "GET /v1/health: HTTP 503 in 0 ms, the API failed"),
        clock=("skipped", "needs Public health, which failed"),
    ),
    world(
        "a clock a minute fast",
        on_api(lambda api: api.clock_skew(-60)),
        clock=("warning", "clock 60 s ahead of the server; sync it (NTP)"),
        auth=("ok", "key and signature accepted (API 2026.11.0)"),
    ),
    world(
        "a clock 7 minutes slow",
        on_api(lambda api: api.clock_skew(420)),
        # 419 or 420: the Date header counts whole seconds, the fake clock has fractions
        clock=(
            "failure",
            "... s behind the server, over the 300 s window: every request is rejected. Sync it "
            "(NTP)",
        ),
        rate_limit=("skipped", "needs Clock skew, which failed"),
        auth=("skipped", "needs Clock skew, which failed"),
    ),
    world(
        "plenty of headroom",
        headroom(500, 600),
        rate_limit=("ok", "500 of 600 requests left"),
    ),
    world(
        "little headroom",
        headroom(12, 600),
        rate_limit=("warning", "12 of 600 requests left: close to the limit"),
        auth=("ok", "key and signature accepted (API 2026.11.0)"),
    ),
    world(
        "a tenth left is not yet close",
        headroom(60, 600),
        rate_limit=("ok", "60 of 600 requests left"),
    ),
    world(
        "little headroom, in the older X-RateLimit fields",
        headroom(59, 600, fields="X-RateLimit-"),
        rate_limit=("warning", "59 of 600 requests left: close to the limit"),
    ),
    world(
        "rate limited",
        on_api(lambda api: api.rate_limit(times=LASTING, retry_after=60, path="/v1/client")),
        rate_limit=("failure", "RATE_LIMIT_ERROR: Rate limit exceeded; the API asks to wait 60 s"),
        auth=("skipped", "needs Rate limit, which failed"),
        fixes={"rate-limit": "Wait 60 s; then cache prompts, batch renders and bound concurrency"},
    ),
    world(
        "revoked key",
        on_api(lambda api: api.revoke_key(api.api_key)),
        rate_limit=("ok", "not limited (the API sends no remaining count)"),
        auth=("failure", "AUTHENTICATION_ERROR: Invalid API key or signature"),
        round_trip=("skipped", "needs Authenticated health, which failed"),
        latency=("skipped", "needs Authenticated health, which failed"),
    ),
    world(
        "authenticated calls refused a connection",
        on_api(lambda api: api.connection_refused(times=LASTING, path="/v1/client")),
        rate_limit=("ok", "not limited (the API sends no remaining count)"),
        auth=(
            "failure",
            "NETWORK_ERROR: Could not reach https://api.promptops.com: [Errno 111] Connection "
            "refused",
        ),
    ),
    world(
        "authenticated health failing",
        on_api(lambda api: api.server_error(times=LASTING, path="/v1/client/health")),
        auth=("failure", "SERVER_ERROR: The server is temporarily unavailable"),
        fixes={"auth": "Read the error: the API answered, but not with its health"},
    ),
    world(
        "no prompts for this key",
        on_api(lambda api: api.prompts.clear()),
        round_trip=("warning", "this key sees no prompts"),
        latency=("skipped", "no prompt to time"),
        fixes={"round-trip": "Create a prompt, or check the key's workspace"},
    ),
    world(
        "prompts failing",
        on_api(lambda api: api.server_error(times=LASTING, path="/v1/client/prompts")),
        round_trip=("failure", "SERVER_ERROR: The server is temporarily unavailable"),
        latency=("skipped", "needs Prompt round trip, which failed"),
    ),
    world(
        "a slow API",
        on_api(lambda api: api.simulate_latency(1.2)),
        public_health=("ok", "GET /v1/health: HTTP 200 in 1200 ms"),
        latency=(
            "warning",
            "p50 1200 ms, p95 1200 ms uncached; p50 0 ms, p95 0 ms cached (5 calls each): p95 "
            "over 1000 ms",
        ),
    ),
    world(
        "an API too slow to use",
        on_api(lambda api: api.simulate_latency(6)),
        options(deadline=300),
        latency=(
            "failure",
            "p50 6000 ms, p95 6000 ms uncached; p50 0 ms, p95 0 ms cached (5 calls each): p95 "
            "over 5000 ms",
        ),
    ),
    world(
        "a second exactly is not slow yet",
        on_api(lambda api: api.simulate_latency(1.0)),
        latency=(
            "ok",
            "p50 1000 ms, p95 1000 ms uncached; p50 0 ms, p95 0 ms cached (5 calls each)",
        ),
    ),
    world(
        "five seconds exactly is slow, not too slow",
        on_api(lambda api: api.simulate_latency(5.0)),
        options(deadline=300),
        latency=(
            "warning",
            "p50 5000 ms, p95 5000 ms uncached; p50 0 ms, p95 0 ms cached (5 calls each): p95 "
            "over 1000 ms",
        ),
    ),
]

# Paths a check cannot take: the configuration doctor never fails a proxy; the checks of
# configuration need nothing, so are never skipped; connections and answers either work or not.
NO_SUCH_PATH = {
    ("proxy", "failure"),
    *((check, "skipped") for check in ("api-key", "base-url", "proxy", "ca-bundle")),
    *((check, "warning") for check in ("dns", "tcp", "public-health", "auth")),
}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[LocalTLSServer]:
    """One TLS server for the module: it only completes handshakes, so runs can share it."""
    with tls_stand_in(HOST) as server:
        yield server


@pytest.mark.parametrize("case", WORLDS, ids=lambda w: w.name)
def test_each_check_finds_what_its_world_holds(
    case: World_, mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    w = World(mock_api, clock)
    case.setup(w)
    valid_until = w.options.pop("valid_until", None)
    if valid_until is None:
        report = diagnose(clock, w.environ, stand_in=stand_in, **w.options)
    else:
        with tls_stand_in(HOST, valid_until=valid_until) as expiring:
            report = diagnose(clock, w.environ, stand_in=expiring, **w.options)
    results = by_id(report)
    found = {check: (results[check].status, results[check].detail) for check in case.expect}
    assert {check: status for check, (status, _) in found.items()} == {
        check: status for check, (status, _) in case.expect.items()
    }, found
    for check, (_, text) in case.expect.items():
        detail = results[check].detail
        if text.startswith("..."):  # a figure that varies ahead of it
            assert detail.endswith(text.removeprefix("...")), f"{check}: {detail!r}"
        else:
            assert detail == text, f"{check}: {detail!r}"
    for result in report.results:  # a fix and a link under what did not pass, and only there
        assert (result.fix is not None) == (result.status in ("warning", "failure")), result
    for check, fix in case.fixes.items():
        assert results[check].fix == fix


def test_the_worlds_take_every_check_down_every_path_it_has() -> None:
    taken = {(check, status) for w in WORLDS for check, (status, _) in w.expect.items()}
    every = {(check.id, status) for check in CHECKS for status in get_args(Status)}
    assert every - NO_SUCH_PATH - taken == set()
    assert taken & NO_SUCH_PATH == set()


@pytest.mark.parametrize(
    ("environ", "proxy"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy.corp.example:3128"}, ("proxy.corp.example", 3128)),
        ({"https_proxy": "proxy.corp.example:3128"}, ("proxy.corp.example", 3128)),
        ({"ALL_PROXY": "http://alice:s3cret@proxy.corp.example"}, ("proxy.corp.example", 80)),
        ({"HTTP_PROXY": "http://proxy.corp.example:3128"}, None),  # http only: not for https
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*"}, None),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "localhost, .promptops.com"}, None),
        ({"HTTPS_PROXY": "http://p.example:3128", "no_proxy": "promptops.com"}, None),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "example.org"}, ("p.example", 3128)),
        ({"HTTPS_PROXY": "http://p.example:port"}, None),  # unusable: the Proxy check says so
        ({"all_proxy": "http://p.example:3128"}, ("p.example", 3128)),
        ({"HTTPS_PROXY": "https://p.example"}, ("p.example", 443)),
        # httpx reads `*.name` as no pattern at all: the proxy is used (checked against httpx)
        (
            {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*.promptops.com"},
            ("p.example", 3128),
        ),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "ops.com"}, ("p.example", 3128)),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "api.promptops.com"}, None),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "  "}, ("p.example", 3128)),
    ],
)
def test_the_proxy_is_the_one_httpx_would_use_for_the_api(
    environ: dict[str, str], proxy: tuple[str, int] | None
) -> None:
    assert checks._proxy_address("https://api.promptops.com", environ) == proxy


@pytest.mark.parametrize(
    ("environ", "proxy"),
    [
        ({"HTTP_PROXY": "http://p.example:3128"}, ("p.example", 3128)),
        ({"http_proxy": "p.example:8080"}, ("p.example", 8080)),
        ({"HTTPS_PROXY": "http://p.example:3128"}, None),  # https only: not for http
    ],
)
def test_a_plain_http_base_url_goes_through_the_http_proxy(
    environ: dict[str, str], proxy: tuple[str, int] | None
) -> None:
    assert checks._proxy_address("http://localhost:8080", environ) == proxy


def test_the_tcp_fix_names_the_port_and_proxy_variable_of_the_base_url(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    environ = {**SETTINGS, "PROMPTOPS_BASE_URL": "http://localhost:8080"}
    report = diagnose(clock, environ, stand_in=stand_in, connect_to=closed_port())
    assert by_id(report)["tcp"].fix == (
        "Allow outbound connections to localhost:8080, or set HTTP_PROXY if the network "
        "requires a proxy"
    )


def test_a_429_is_reported_at_once_not_waited_out(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """The client would wait `retry_after` and retry; the doctor says what the API said."""
    mock_api.rate_limit(times=LASTING, retry_after=5, path="/v1/client")
    report = diagnose(clock, stand_in=stand_in)
    rate_limit = by_id(report)["rate-limit"]
    assert rate_limit.detail == "RATE_LIMIT_ERROR: Rate limit exceeded; the API asks to wait 5 s"
    assert rate_limit.fix == "Wait 5 s; then cache prompts, batch renders and bound concurrency"
    assert rate_limit.measurements == {"retry_after_seconds": 5}
    assert clock.sleeps == []
    assert [r.url.path for r in mock_api.requests].count("/v1/client/health") == 1


def test_a_429_without_a_wait_gets_the_check_s_own_fix(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    mock_api.rate_limit(times=LASTING, retry_after=None, path="/v1/client")
    rate_limit = by_id(diagnose(clock, stand_in=stand_in))["rate-limit"]
    assert rate_limit.detail == "RATE_LIMIT_ERROR: Rate limit exceeded"
    assert rate_limit.fix == (
        "Cache prompts, batch renders and bound concurrency; check the plan's limit"
    )
    assert rate_limit.measurements == {}


def test_a_missing_date_header_is_not_blamed_on_this_machine_s_clock(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_date(*args: object, **kwargs: object) -> float:
        raise ServerError("GET /v1/health answered HTTP 200 without a valid Date header")

    monkeypatch.setattr(checks, "measure_clock_skew", no_date)
    clock_check = by_id(diagnose(clock, stand_in=stand_in))["clock"]
    assert clock_check.status == "failure"
    assert clock_check.detail == (
        "SERVER_ERROR: GET /v1/health answered HTTP 200 without a valid Date header"
    )
    assert clock_check.fix == (
        "A proxy in front of the API may drop the Date header: ask its admins"
    )


def test_a_key_refused_for_prompts_alone_is_named_as_such(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refused(self: object) -> list[str]:
        raise AuthenticationError("Invalid API key or signature", status_code=401)

    monkeypatch.setattr(PromptOpsClient, "list_prompts", refused)
    round_trip = by_id(diagnose(clock, stand_in=stand_in))["round-trip"]
    assert round_trip.status == "failure"
    assert round_trip.detail == "AUTHENTICATION_ERROR: Invalid API key or signature"
    assert round_trip.fix == (
        "Check in the dashboard that this key may read prompts in its workspace"
    )


def test_the_rate_limit_headroom_is_measured_for_monitoring(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    w = World(mock_api, clock)
    headroom(12, 600)(w)
    rate_limit = by_id(diagnose(clock, stand_in=stand_in))["rate-limit"]
    assert rate_limit.measurements == {"remaining": 12.0, "limit": 600.0}


@pytest.mark.parametrize(
    ("fields", "detail", "measurements"),
    [
        (
            {"RateLimit-Limit": "100", "RateLimit-Remaining": "50, 40;w=1"},
            "50 of 100 requests left",
            {"remaining": 50.0, "limit": 100.0},
        ),
        (
            {"RateLimit-Limit": "100;w=60", "RateLimit-Remaining": "50;w=60"},
            "50 of 100 requests left",
            {"remaining": 50.0, "limit": 100.0},
        ),
        (
            {"RateLimit-Remaining": "50"},
            "not limited (the API sends no remaining count)",
            {},
        ),
    ],
    ids=["a list of windows", "with parameters", "no limit"],
)
def test_the_rate_limit_fields_are_read_as_the_ietf_draft_writes_them(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    fields: dict[str, str],
    detail: str,
    measurements: dict[str, float],
) -> None:
    """The first window of a list, the number before its parameters; no limit, no share."""
    own = mock_api._headers
    mock_api._headers = lambda: {**own(), **fields}  # type: ignore[method-assign]
    rate_limit = by_id(diagnose(clock, stand_in=stand_in))["rate-limit"]
    assert (rate_limit.status, rate_limit.detail) == ("ok", detail)
    assert rate_limit.measurements == measurements


def test_the_latency_percentiles_are_measured_for_monitoring(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    mock_api.simulate_latency(1.23456)  # to a tenth of a millisecond: 1234.6
    latency = by_id(diagnose(clock, stand_in=stand_in))["latency"]
    assert latency.measurements == {
        "uncached_p50_ms": 1234.6,
        "uncached_p95_ms": 1234.6,
        "cached_p50_ms": 0.0,
        "cached_p95_ms": 0.0,
    }


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_tls_check_trusts_the_cas_the_client_would(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    tmp_path: Path,
    variable: str,
) -> None:
    """httpx reads `SSL_CERT_FILE`, else `SSL_CERT_DIR` (files named by subject hash)."""
    (tmp_path / "company-ca.pem").write_bytes(stand_in.ca_pem)
    if variable == "SSL_CERT_DIR":
        subprocess.run(["openssl", "rehash", str(tmp_path)], check=True, capture_output=True)
    where = tmp_path / "company-ca.pem" if variable == "SSL_CERT_FILE" else tmp_path
    report = diagnose(clock, {**SETTINGS, variable: str(where)}, stand_in=stand_in, trusted=False)
    assert by_id(report)["tls"].status == "ok"


def test_a_ca_file_that_holds_no_certificate_fails_the_tls_check(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer, tmp_path: Path
) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    environ = {**SETTINGS, "SSL_CERT_FILE": str(tmp_path / "ca.pem")}
    tls = by_id(diagnose(clock, environ, stand_in=stand_in, trusted=False))["tls"]
    assert tls.status == "failure"
    assert tls.detail.startswith("the CA bundle cannot be loaded: [X509: NO_CERTIFICATE_OR_CRL")
