"""Network diagnostics (snippets/debugging/network_diagnostics.py), each check for real: DNS
through the resolver seam, TCP and TLS against servers on 127.0.0.1 (a TLS stand-in for the
API, the CONNECT proxy of snippets/mock_api/proxy.py in front of it), HTTP through the client
against the mock API."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from snippets.checks import CheckContext, Network, Report, run_checks, system_resolver
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.client.settings import secrets_in
from snippets.debugging import network_diagnostics
from snippets.debugging.network_diagnostics import CHECKS, diagnose_network
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.proxy import local_proxy
from snippets.mock_api.tls import LocalTLSServer, local_tls_server
from snippets.offline import simulated_resolver, tls_stand_in

from ..local_server import in_a_thread, refused_port, serve

HOST = "api.promptops.com"
PROXY_REFUSED_FIX = (
    "The proxy in HTTPS_PROXY did not let the connection through: a 407 wants the proxy's "
    "credentials in that URL (http://user:password@host:port); otherwise ask its admins to "
    "allow CONNECT to api.promptops.com:443"
)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[LocalTLSServer]:
    """A TLS server on 127.0.0.1 with a certificate for the API's host (its own thread)."""
    with tls_stand_in(HOST) as server:
        yield server


def diagnose(
    clock: FakeClock,
    environ: dict[str, str] | None = None,
    *,
    deadline: float = 30.0,
    resolve: Any = simulated_resolver,
    connect_to: tuple[str, int] | None = None,
    tls_context: Any = None,
) -> Report:
    """Every check, on `clock`'s event loop, for the settings in `environ`."""
    network = Network(resolve, connect_to, tls_context)
    ctx = CheckContext(environ or {}, clock=clock, network=network, deadline=deadline)
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(run_checks("network-diagnostics", CHECKS, ctx))


def through(
    clock: FakeClock, stand_in: LocalTLSServer, environ: dict[str, str] | None = None, **more: Any
) -> Report:
    """Every check, TCP and TLS to the stand-in, which the checks trust."""
    more.setdefault("connect_to", (stand_in.host, stand_in.port))
    more.setdefault("tls_context", stand_in.client_context)
    return diagnose(clock, environ, **more)


def lines(report: Report) -> list[tuple[str, str, str]]:
    return [(f.id, f.status, f.detail) for f in report.findings]


HEALTHY_HTTP = [
    ("public-health", "ok", "GET /v1/health: HTTP 200 in 0 ms"),
    (
        "api-paths",
        "ok",
        "reachable: /v1/client/health HTTP 401, /v1/client/prompts HTTP 401 without a key",
    ),
]


def test_every_check_passes_against_the_mock_and_the_stand_in(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    report = through(clock, stand_in)
    assert lines(report) == [
        ("dns", "ok", "api.promptops.com resolves to 203.0.113.10"),
        ("tcp", "ok", "api.promptops.com:443 accepts connections"),
        (
            "tls",
            "ok",
            "api.promptops.com, issued by PromptOps Mock CA, expires 2099-12-31 (27027 days left)",
        ),
        *HEALTHY_HTTP,
    ]
    assert report.exit_code == 0
    assert [r.url.path for r in mock_api.requests] == [
        "/v1/health",
        "/v1/client/health",
        "/v1/client/prompts",
    ]
    assert not any("Authorization" in r.headers for r in mock_api.requests)  # no key sent


# -- DNS --------------------------------------------------------------------------------------


def test_dns_through_the_system_resolver_for_localhost(clock: FakeClock) -> None:
    with refused_port() as port:  # the checks after DNS connect there: refused at once
        environ = {"PROMPTOPS_BASE_URL": f"http://localhost:{port}"}
        report = diagnose(clock, environ, resolve=system_resolver)
    dns = report.findings[0]
    assert dns.status == "ok" and dns.detail.startswith("localhost resolves to ")
    assert "127.0.0.1" in dns.detail


def test_a_lookup_on_another_thread_is_waited_for_on_a_fake_clock(clock: FakeClock) -> None:
    """The system resolver's `getaddrinfo` runs on the loop's executor: the fake clock's loop
    waits for it in real time (it once jumped to the run's deadline and failed the lookup as
    out of time)."""

    answered_at: list[float] = []

    async def lookup_on_a_thread(host: str) -> list[str]:
        def lookup() -> list[str]:
            threading.Event().wait(0.05)  # a slow DNS server
            return ["127.0.0.1"]

        addresses = await asyncio.get_running_loop().run_in_executor(None, lookup)
        answered_at.append(clock.monotonic())
        return addresses

    with refused_port() as port:  # the checks after DNS connect there: refused at once
        environ = {"PROMPTOPS_BASE_URL": f"http://localhost:{port}"}
        report = diagnose(clock, environ, resolve=lookup_on_a_thread)
    assert lines(report)[0] == ("dns", "ok", "localhost resolves to 127.0.0.1")
    # The loop waited for the answer, and counted the real time it took; it did not jump to
    # the deadline (30 s), which would have cut the lookup before it answered.
    (waited,) = answered_at
    assert 0 < waited < 30


def test_the_system_resolver_returns_each_address_once() -> None:
    assert asyncio.run(system_resolver("127.0.0.2")) == ["127.0.0.2"]


def test_every_address_a_name_resolves_to_is_listed(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    async def two(host: str) -> list[str]:
        return ["203.0.113.10", "2001:db8::10"]

    report = through(clock, stand_in, resolve=two)
    assert report.findings[0].detail == "api.promptops.com resolves to 203.0.113.10, 2001:db8::10"


def test_a_name_that_does_not_resolve_fails_and_skips_what_needs_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    report = diagnose(clock, {"PROMPTOPS_BASE_URL": "https://api.promptops.invalid"})
    assert lines(report) == [
        (
            "dns",
            "failure",
            "api.promptops.invalid does not resolve: [Errno -2] Name or service not known",
        ),
        ("tcp", "skipped", "needs DNS, which failed"),
        ("tls", "skipped", "needs DNS, which failed"),
        ("public-health", "skipped", "needs DNS, which failed"),
        ("api-paths", "skipped", "needs DNS, which failed"),
    ]
    assert report.findings[0].fix == (
        "Check the host in PROMPTOPS_BASE_URL, and this machine's DNS: getent hosts "
        "api.promptops.invalid"
    )
    assert report.exit_code == 2
    assert mock_api.requests == []  # nothing that needs DNS was tried


# -- TCP --------------------------------------------------------------------------------------


def test_tcp_to_a_closed_port_fails_with_the_os_reason(clock: FakeClock) -> None:
    with refused_port() as port:
        report = diagnose(clock, {"PROMPTOPS_BASE_URL": f"http://127.0.0.1:{port}"})
    assert lines(report)[1] == (
        "tcp",
        "failure",
        f"127.0.0.1:{port}: [Errno 111] Connection refused",
    )
    assert report.findings[1].fix == (
        f"Allow outbound connections to 127.0.0.1:{port}, or set HTTP_PROXY if the network "
        "requires a proxy"
    )


def test_a_connection_that_never_opens_runs_out_of_the_run_s_time(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A firewall that drops packets: only the deadline ends the wait, on fake time."""

    async def never(*args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio, "open_connection", never)
    report = diagnose(clock, deadline=3)
    assert lines(report)[1:3] == [
        ("tcp", "failure", "ran out of time: no result within the 3 s deadline"),
        ("tls", "skipped", "needs TCP connect, which ran out of time"),
    ]
    assert report.summary() == (
        "1 ok, 0 warnings, 1 failure, 3 skipped; ran out of time (3 s deadline): TCP connect"
    )
    assert clock.monotonic() == 3


def test_a_lookup_that_never_answers_runs_out_of_the_run_s_time(clock: FakeClock) -> None:
    async def never(host: str) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    report = diagnose(clock, resolve=never, deadline=4)
    assert lines(report)[0] == (
        "dns",
        "failure",
        "ran out of time: no result within the 4 s deadline",
    )
    assert report.exit_code == 2 and clock.monotonic() == 4


@pytest.mark.parametrize(
    ("base_url", "shown"),
    [
        ("https://api.promptops.com:8443", "api.promptops.com:8443"),
        ("http://api.promptops.com", "api.promptops.com:80"),
        ("http://localhost:8080", "localhost:8080"),
    ],
)
def test_the_host_and_port_checked_and_shown_are_the_base_url_s(
    clock: FakeClock, stand_in: LocalTLSServer, base_url: str, shown: str
) -> None:
    """A stand-in listens elsewhere; the lines name where the client would connect, and the
    mock answers there (the common issues page sends readers with a wrong base URL here)."""
    with MockPromptOpsAPI(clock=clock, base_url=base_url) as api:
        report = through(clock, stand_in, {"PROMPTOPS_BASE_URL": base_url})
    assert report.findings[0].detail == f"{shown.split(':')[0]} resolves to 203.0.113.10"
    assert report.findings[1].detail == f"{shown} accepts connections"
    assert {(r.url.host, r.url.port or 80) for r in api.requests} == {
        (shown.split(":")[0], int(shown.split(":")[1]))
    }
    assert [f.status for f in report.findings[3:]] == ["ok", "ok"]


def test_a_plain_http_base_url_skips_tls(clock: FakeClock, stand_in: LocalTLSServer) -> None:
    with MockPromptOpsAPI(clock=clock, base_url="http://localhost:8080"):
        report = through(clock, stand_in, {"PROMPTOPS_BASE_URL": "http://localhost:8080"})
    assert lines(report)[2] == ("tls", "skipped", "not used: the base URL is plain http")
    assert report.exit_code == 0  # not applicable is no warning


def test_an_unusable_base_url_fails_the_first_check_and_is_shown_without_secrets(
    clock: FakeClock,
) -> None:
    report = diagnose(
        clock, {"PROMPTOPS_BASE_URL": "https://user:po_live_in_url@api.promptops.com"}
    )
    assert lines(report)[:2] == [
        (
            "dns",
            "failure",
            "PROMPTOPS_BASE_URL must not contain a user or password "
            "('https://***@api.promptops.com'): the client signs in with the API key",
        ),
        ("tcp", "skipped", "needs DNS, which failed"),
    ]
    assert "po_live_in_url" not in str(report) and "user" not in report.base_url


@pytest.mark.parametrize("base_url", ["https://xn--a.com", "http://[::1"])
def test_a_base_url_that_does_not_parse_is_a_finding_never_an_exception(
    clock: FakeClock, base_url: str
) -> None:
    report = diagnose(clock, {"PROMPTOPS_BASE_URL": base_url})
    assert report.findings[0].status == "failure"
    assert report.findings[0].detail.startswith("PROMPTOPS_BASE_URL ")
    assert {f.status for f in report.findings[1:]} == {"skipped"}


# -- TLS --------------------------------------------------------------------------------------


def tls_finding(clock: FakeClock, trusted: bool = True, **server: Any) -> tuple[str, str]:
    """The TLS check's (status, detail) against a fresh server made with `server`."""

    async def main() -> tuple[str, str]:
        async with local_tls_server(**server) as tls:
            ctx = CheckContext(
                {},
                clock=clock,
                network=Network(
                    simulated_resolver,
                    (tls.host, tls.port),
                    tls.client_context if trusted else None,
                ),
            )
            (finding,) = (await run_checks("network-diagnostics", CHECKS[2:3], ctx)).findings
            return finding.status, finding.detail

    return asyncio.run(main())


def test_tls_certificate_expiring_soon_is_a_warning(clock: FakeClock) -> None:
    real_now = datetime.now(UTC)
    clock.advance(real_now.timestamp() - clock.time())  # the check's clock at real time
    status, detail = tls_finding(clock, valid_until=real_now + timedelta(days=10, hours=1))
    assert status == "warning" and detail.endswith("(10 days left)")


@pytest.mark.parametrize(("days", "status"), [(13, "warning"), (14, "ok")])
def test_tls_warns_under_14_days_left(clock: FakeClock, days: int, status: str) -> None:
    real_now = datetime.now(UTC)
    clock.advance(real_now.timestamp() - clock.time())
    expires = real_now + timedelta(days=days, hours=1)
    assert tls_finding(clock, valid_until=expires) == (
        status,
        f"api.promptops.com, issued by PromptOps Mock CA, expires {expires:%Y-%m-%d} "
        f"({days} days left)",
    )


def test_tls_expired_certificate_fails(clock: FakeClock) -> None:
    status, detail = tls_finding(
        clock,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_until=datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert (status, detail) == ("failure", "CERTIFICATE_VERIFY_FAILED: certificate has expired")


def test_tls_certificate_for_another_host_fails(clock: FakeClock) -> None:
    assert tls_finding(clock, hostname="other.example") == (
        "failure",
        "CERTIFICATE_VERIFY_FAILED: Hostname mismatch, certificate is not valid for "
        "'api.promptops.com'.",
    )


def test_tls_untrusted_ca_fails_with_openssls_reason_and_no_source_line(clock: FakeClock) -> None:
    """Not `(_ssl.c:1000)`: the line of OpenSSL's source differs between Python versions,
    and the pages show this text. The CAs trusted are the client's: certifi's here."""
    assert tls_finding(clock, trusted=False) == (
        "failure",
        "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate",
    )


def test_tls_trusts_the_cas_the_client_trusts(clock: FakeClock, tmp_path: Any) -> None:
    """With the stand-in's CA in SSL_CERT_FILE, as a company's CA would be, the certificate
    verifies with no stand-in trust given to the check."""

    async def main() -> tuple[str, str]:
        async with local_tls_server() as tls:
            (tmp_path / "ca.pem").write_bytes(tls.ca_pem)
            ctx = CheckContext(
                {"SSL_CERT_FILE": str(tmp_path / "ca.pem")},
                clock=clock,
                network=Network(simulated_resolver, (tls.host, tls.port)),
            )
            (finding,) = (await run_checks("network-diagnostics", CHECKS[2:3], ctx)).findings
            return finding.status, finding.detail

    status, detail = asyncio.run(main())
    assert status == "ok" and detail.startswith("api.promptops.com, issued by PromptOps Mock CA")


def test_tls_with_nothing_listening_fails(clock: FakeClock) -> None:
    with refused_port() as port:
        ctx = CheckContext({}, clock=clock, network=Network(connect_to=("127.0.0.1", port)))
        (finding,) = asyncio.run(run_checks("network-diagnostics", CHECKS[2:3], ctx)).findings
    assert (finding.status, finding.detail) == ("failure", "[Errno 111] Connection refused")


def test_a_handshake_that_never_completes_runs_out_of_the_run_s_time(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts the connection and never speaks TLS: on fake time."""

    async def never(*args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio, "open_connection", never)
    ctx = CheckContext({}, clock=clock, deadline=2)
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        report = runner.run(run_checks("network-diagnostics", CHECKS[2:3], ctx))
    assert lines(report) == [
        ("tls", "failure", "ran out of time: no result within the 2 s deadline")
    ]
    assert clock.monotonic() == 2


# -- through a proxy --------------------------------------------------------------------------


def test_dns_and_tcp_go_to_the_proxy_when_there_is_one(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """The client opens its connections to the proxy, not to the API: that is what must
    resolve and accept them."""
    report = diagnose(
        clock,
        {"HTTPS_PROXY": "http://proxy.example:3128"},
        connect_to=(stand_in.host, stand_in.port),
    )
    assert lines(report)[:2] == [
        ("dns", "ok", "proxy.example resolves to 203.0.113.10"),
        ("tcp", "ok", "proxy.example:3128 (the proxy, HTTPS_PROXY) accepts connections"),
    ]


def test_a_proxy_at_an_ipv6_address_is_shown_in_brackets(clock: FakeClock) -> None:
    with refused_port() as port:
        environ = {"HTTPS_PROXY": "http://[::1]:3128"}
        report = diagnose(clock, environ, connect_to=("127.0.0.1", port))
    assert lines(report)[:2] == [
        ("dns", "ok", "::1 resolves to ::1"),
        ("tcp", "failure", "[::1]:3128 (the proxy, HTTPS_PROXY): [Errno 111] Connection refused"),
    ]


def test_no_proxy_for_the_api_s_host_sends_the_checks_direct(
    clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    report = through(
        clock, stand_in, {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": HOST}
    )
    assert lines(report)[:2] == [
        ("dns", "ok", "api.promptops.com resolves to 203.0.113.10"),
        ("tcp", "ok", "api.promptops.com:443 accepts connections"),
    ]


def test_tls_through_a_real_connect_proxy_says_so(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    with in_a_thread(local_proxy((stand_in.host, stand_in.port))) as proxy:
        report = diagnose(clock, {"HTTPS_PROXY": proxy.url}, tls_context=stand_in.client_context)
    assert lines(report) == [
        ("dns", "ok", "127.0.0.1 resolves to 127.0.0.1"),
        ("tcp", "ok", f"127.0.0.1:{proxy.port} (the proxy, HTTPS_PROXY) accepts connections"),
        (
            "tls",
            "ok",
            "api.promptops.com, issued by PromptOps Mock CA, expires 2099-12-31 (27027 days "
            "left) through the proxy",
        ),
        *HEALTHY_HTTP,
    ]
    assert proxy.requests == [
        "CONNECT api.promptops.com:443 HTTP/1.1\r\nHost: api.promptops.com:443\r\n\r\n"
    ]


def test_the_proxy_s_credentials_are_sent_as_httpx_sends_them_and_never_shown(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    userinfo = "al%40ice:s3cr%3At"  # percent-encoded in the URL, as a password with @ or : is
    with in_a_thread(local_proxy((stand_in.host, stand_in.port), login="al@ice:s3cr:t")) as proxy:
        url = proxy.url_with(userinfo)
        report = diagnose(clock, {"HTTPS_PROXY": url}, tls_context=stand_in.client_context)
    assert report.exit_code == 0  # the proxy took the login: the tunnel opened
    (head,) = proxy.requests
    sent = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
    raw_auth = httpx.Proxy(url).raw_auth  # what httpx (httpcore) sends a proxy, decoded
    assert raw_auth == (b"al@ice", b"s3cr:t")
    assert sent["Proxy-Authorization"] == "Basic " + base64.b64encode(b"al@ice:s3cr:t").decode()
    shown = str(report) + json.dumps(report.as_json())
    for secret in ("s3cr", "al@ice", "al%40ice", sent["Proxy-Authorization"].split()[1]):
        assert secret not in shown


@pytest.mark.parametrize("scheme", ["https", "socks5"])
def test_tls_is_left_to_the_client_through_a_proxy_it_cannot_tunnel_through(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    scheme: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An https:// or SOCKS proxy: Public health, sent by the client, goes through it (the
    SOCKS package is said to be there: the proxy is usable)."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: object())
    report = through(clock, stand_in, {"HTTPS_PROXY": f"{scheme}://proxy.example:3128"})
    assert lines(report)[2] == (
        "tls",
        "skipped",
        f"through the {scheme}:// proxy proxy.example:3128: Public health checks TLS end to end",
    )


@pytest.mark.parametrize(
    ("environ", "detail"),
    [
        (
            {"ALL_PROXY": "socks5://proxy:1080"},
            "ALL_PROXY names a SOCKS proxy ('socks5://proxy:1080'), which needs the socksio "
            "package: pip install 'httpx[socks]'",
        ),
        (
            {"PROMPTOPS_BASE_URL": "http://127.0.0.1:1", "HTTP_PROXY": "http://[::1"},
            "HTTP_PROXY is not a proxy URL ('http://[::1'): Invalid port: ':1'",
        ),
        (
            {"HTTPS_PROXY": "ftp://proxy"},
            "HTTPS_PROXY names a ftp:// proxy ('ftp://proxy'): httpx supports http, https and "
            "socks5 proxies",
        ),
    ],
)
def test_a_proxy_the_client_cannot_use_fails_the_first_check_naming_the_variable(
    clock: FakeClock, environ: dict[str, str], detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, package=None: None if name == "socksio" else real_find_spec(name, package),
    )
    report = diagnose(clock, environ)
    assert lines(report)[0] == ("dns", "failure", detail)
    assert {f.status for f in report.findings[1:]} == {"skipped"}


def test_a_proxy_that_answers_407_fails_naming_the_proxy_with_its_own_fix(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    with in_a_thread(local_proxy(login="alice:s3cret")) as proxy:  # not in the URL: a 407
        report = diagnose(clock, {"HTTPS_PROXY": proxy.url}, tls_context=stand_in.client_context)
    tls = report.findings[2]
    assert (tls.status, tls.detail) == (
        "failure",
        f"127.0.0.1:{proxy.port} (the proxy, HTTPS_PROXY) did not open a tunnel to "
        "api.promptops.com:443: HTTP/1.1 407 Proxy Authentication Required",
    )
    assert tls.fix == PROXY_REFUSED_FIX
    assert [f.status for f in report.findings[3:]] == ["skipped", "skipped"]
    assert mock_api.requests == []


def test_a_proxy_that_echoes_the_credentials_back_does_not_get_them_shown(
    clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    token = base64.b64encode(b"alice:s3cret-pw").decode()
    answer = f"HTTP/1.1 403 Denied for alice:s3cret-pw (Basic {token})\r\n\r\n".encode()
    with in_a_thread(local_proxy(answer=answer)) as proxy:
        report = diagnose(
            clock,
            {"HTTPS_PROXY": proxy.url_with("alice:s3cret-pw")},
            tls_context=stand_in.client_context,
        )
    assert report.findings[2].status == "failure"
    shown = str(report) + json.dumps(report.as_json())
    assert "s3cret-pw" not in shown and token not in shown
    assert "did not open a tunnel to api.promptops.com:443: HTTP/1.1 403 Denied for" in shown


def test_the_secrets_no_report_shows_are_the_key_and_each_proxy_s_password() -> None:
    environ = {
        "PROMPTOPS_API_KEY": " 'po_live_x' ",
        "HTTPS_PROXY": "http://al%40ice:s3cr%3At@proxy:3128/",
        "http_proxy": "http://bob:pw@proxy:3128",  # too short to look for: `pw` is everywhere
        "NO_PROXY": "localhost",
    }
    assert secrets_in(environ) == [
        " 'po_live_x' ",
        "'po_live_x'",
        "po_live_x",
        "s3cr%3At",
        "s3cr:t",
        base64.b64encode(b"al@ice:s3cr:t").decode(),
    ]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "SSH-2.0-OpenSSH_9.2"),
        (b"HTTP/1.1 502 Bad Gateway\r\n\r\n", "HTTP/1.1 502 Bad Gateway"),
        (b"HTTP/1.1 200\x1b[2J OK\r\n\r\n", "HTTP/1.1 200\\x1b[2J OK"),  # escaped, and no 200
        (b"HTTP/1.1 407", "no HTTP answer to CONNECT"),  # then it hangs up
        (b"x" * 20_000, "no HTTP answer to CONNECT"),  # a head that never ends
    ],
    ids=["not-http", "502", "escape", "cut-off", "endless"],
)
def test_a_proxy_that_does_not_open_the_tunnel_is_a_failure_saying_what_it_said(
    clock: FakeClock, stand_in: LocalTLSServer, answer: bytes, said: str
) -> None:
    with in_a_thread(local_proxy(answer=answer)) as proxy:
        report = diagnose(clock, {"HTTPS_PROXY": proxy.url}, tls_context=stand_in.client_context)
    assert lines(report)[2] == (
        "tls",
        "failure",
        f"127.0.0.1:{proxy.port} (the proxy, HTTPS_PROXY) did not open a tunnel to "
        f"api.promptops.com:443: {said}",
    )


# -- HTTP, through the client ------------------------------------------------------------------


def test_http_timings_are_the_client_s(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    mock_api.simulate_latency(0.120)
    report = through(clock, stand_in)
    assert report.findings[3].detail == "GET /v1/health: HTTP 200 in 120 ms"


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (
            lambda api: api.connection_refused(),
            "NETWORK_ERROR: Could not reach https://api.promptops.com: [Errno 111] Connection "
            "refused",
        ),
        (
            lambda api: api.timeout(),
            "TIMEOUT_ERROR: GET /v1/health: no answer within the 31 s deadline (1 attempt; it "
            "timed out waiting for the answer)",
        ),
        (
            lambda api: api.server_error(status=503),
            "GET /v1/health: HTTP 503 in 0 ms: the API failed (SERVER_ERROR)",
        ),
        (
            lambda api: api.malformed_body(
                status=403, body=b"<html>Blocked by policy</html>", content_type="text/html"
            ),
            "GET /v1/health: HTTP 403 in 0 ms, not a PromptOps answer (text/html): a proxy's?",
        ),
        (
            lambda api: api.malformed_body(status=200, body=b"<html>Welcome to the Wi-Fi</html>"),
            "GET /v1/health: HTTP 200 in 0 ms, not a PromptOps answer (application/json): a "
            "proxy's?",
        ),
        (
            lambda api: api.malformed_body(body=b"[]"),
            "GET /v1/health: HTTP 200 in 0 ms, not a PromptOps answer (application/json): a "
            "proxy's?",
        ),
        (
            lambda api: api.malformed_body(body=b"[" * 100_000),
            "SERVER_ERROR: GET /v1/health answered HTTP 200 with a body of 100000 bytes, over "
            "the 65536 byte limit (max_response_bytes)",
        ),
    ],
    ids=["refused", "timeout", "503", "proxy-page", "captive-portal", "a-list", "deep"],
)
def test_public_health_fails_on_anything_but_the_api_s_envelope(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    fault: Any,
    detail: str,
) -> None:
    fault(mock_api)
    report = through(clock, stand_in)
    assert lines(report)[3:] == [
        ("public-health", "failure", detail),
        ("api-paths", "skipped", "needs Public health, which failed"),
    ]
    assert report.findings[3].fix == (
        "Check status.promptops.com; if a proxy answered instead, check its allow-list"
    )
    assert [f.status for f in report.findings[:3]] == ["ok", "ok", "ok"]  # found before


def test_public_health_is_sent_once_never_retried(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    mock_api.server_error(times=5, status=503)
    through(clock, stand_in)
    assert [r.url.path for r in mock_api.requests] == ["/v1/health"]


def test_a_health_answer_that_never_ends_runs_out_of_the_run_s_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """A byte a second never trips a read timeout: only the deadline ends the check."""
    mock_api.trickle(times=1, interval=1.0, path="/v1/health")
    report = through(clock, stand_in, deadline=5)
    assert lines(report)[3] == (
        "public-health",
        "failure",
        "ran out of time: no result within the 5 s deadline",
    )
    assert [f.id for f in report.ran_out_of_time] == ["public-health"]


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (
            lambda api: api.malformed_body(
                status=403, body=b"<html>Blocked</html>", content_type="text/html",
                path="/v1/client/prompts",
            ),
            "GET /v1/client/prompts: HTTP 403, not a PromptOps answer (text/html): blocked on "
            "the way?",
        ),
        (
            lambda api: api.timeout(path="/v1/client/health"),
            "TIMEOUT_ERROR: GET /v1/client/health: no answer within the 31 s deadline (1 attempt; "
            "it timed out waiting for the answer)",
        ),
    ],
    ids=["blocked", "timeout"],
)  # fmt: skip
def test_api_paths_fail_naming_the_path_that_did_not_answer_as_the_api(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    fault: Any,
    detail: str,
) -> None:
    fault(mock_api)
    report = through(clock, stand_in)
    assert lines(report)[3:] == [HEALTHY_HTTP[0], ("api-paths", "failure", detail)]
    assert report.findings[4].fix == (
        "Ask the proxy's admins to allow api.promptops.com/v1/client/ as a whole"
    )


# -- over real HTTP, and the command line -----------------------------------------------------


async def loopback_only(host: str) -> list[str]:
    """A resolver that knows 127.0.0.1 only: no DNS query leaves the machine."""
    if host != "127.0.0.1":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ["127.0.0.1"]


@pytest.mark.real_time  # a server on 127.0.0.1, stopped in real time
def test_the_checks_follow_promptops_base_url_over_real_http() -> None:
    """The mock served by uvicorn on 127.0.0.1: every check for real, on the real clock."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    with serve(MockASGIApp(api)) as base_url:
        ctx = CheckContext({"PROMPTOPS_BASE_URL": base_url}, network=Network(loopback_only))
        report = asyncio.run(run_checks("network-diagnostics", CHECKS, ctx))
    port = int(base_url.rsplit(":", 1)[1])
    assert [(f.id, f.status) for f in report.findings] == [
        ("dns", "ok"),
        ("tcp", "ok"),
        ("tls", "skipped"),
        ("public-health", "ok"),
        ("api-paths", "ok"),
    ]
    assert report.findings[1].detail == f"127.0.0.1:{port} accepts connections"
    assert [r.url.port for r in api.requests] == [port] * 3
    assert report.exit_code == 0


def test_diagnose_network_reads_the_environment_given(clock: FakeClock) -> None:
    with refused_port() as port:
        environ = {"PROMPTOPS_BASE_URL": f"http://127.0.0.1:{port}"}
        report = asyncio.run(diagnose_network(environ))
    assert report.tool == "network-diagnostics"
    assert report.base_url == f"http://127.0.0.1:{port}"
    assert [f.status for f in report.findings] == ["ok", "failure", "skipped", "skipped", "skipped"]


def test_command_line_mock_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    assert network_diagnostics.main(["--mock"]) == 0
    output = capsys.readouterr().out.splitlines()
    assert output[0] == (
        "PromptOps network diagnostics: https://api.promptops.com (simulated API: --mock healthy)"
    )
    assert output[1:3] == [
        "ok    DNS                   api.promptops.com resolves to 203.0.113.10",
        "ok    TCP connect           api.promptops.com:443 accepts connections",
    ]
    assert output[3].startswith("ok    TLS                   api.promptops.com, issued by ")
    assert output[4:] == [
        "ok    Public health         GET /v1/health: HTTP 200 in 35 ms",
        "ok    API paths             reachable: /v1/client/health HTTP 401, /v1/client/prompts "
        "HTTP 401 without a key",
        "5 ok, 0 warnings, 0 failures, 0 skipped",
    ]


@pytest.mark.parametrize(
    ("scenario", "statuses"),
    [
        ("dns-failure", ["failure", "skipped", "skipped", "skipped", "skipped"]),
        ("tls-failure", ["ok", "ok", "failure", "skipped", "skipped"]),
        ("server-error", ["ok", "ok", "ok", "failure", "skipped"]),
        ("wrong-key", ["ok"] * 5),  # no key is sent
    ],
)
def test_command_line_mock_scenarios_json(
    scenario: str,
    statuses: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    code = network_diagnostics.main(["--mock", scenario, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in report["checks"]] == statuses
    assert report["simulated"] == {"scenario": scenario}
    assert code == report["exit_code"] == (2 if "failure" in statuses else 0)


def test_the_command_without_mock_checks_the_configured_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No `--mock`: the checks run against PROMPTOPS_BASE_URL (here one that cannot be used,
    so that nothing leaves the machine)."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "ftp://api.promptops.com")
    assert network_diagnostics.main([]) == 2
    output = capsys.readouterr().out.splitlines()
    assert output[0] == "PromptOps network diagnostics: ftp://api.promptops.com"
    assert output[1].startswith("FAIL  DNS                   PROMPTOPS_BASE_URL must be an http(s)")
