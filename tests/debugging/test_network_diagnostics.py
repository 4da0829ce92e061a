"""Network diagnostics (snippets/debugging/network_diagnostics.py), each check for real:
DNS through the resolver seam, HTTP against the mock API, TLS against a server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest

from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.debugging import network_diagnostics
from snippets.debugging.network_diagnostics import (
    BODY_LIMIT,
    PATHS,
    check_dns,
    check_http,
    check_tcp,
    check_tls,
    run_network_diagnostics,
    system_resolver,
)
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.tls import local_tls_server
from snippets.offline import simulated_resolver

from ..local_server import serve

BASE = "https://api.promptops.com"


def test_dns_through_the_system_resolver_for_localhost() -> None:
    (check,) = asyncio.run(check_dns(["localhost"], system_resolver))
    assert check.status == "PASS" and "127.0.0.1" in check.detail


def test_dns_failure_is_reported_and_the_next_host_still_checked() -> None:
    checks = asyncio.run(check_dns(["nope.invalid", "api.promptops.com"], simulated_resolver))
    assert [c.status for c in checks] == ["FAIL", "PASS"]
    assert str(checks[0]) == "FAIL  DNS nope.invalid: [Errno -2] Name or service not known"


def test_http_against_the_mock_with_timings(mock_api: MockPromptOpsAPI) -> None:
    mock_api.simulate_latency(0.120)
    checks = asyncio.run(check_http(BASE, PATHS, clock=mock_api.clock))
    assert [str(c) for c in checks] == [
        "PASS  GET /v1/health: HTTP 200 in 120 ms",
        "PASS  GET /v1/client/health: HTTP 401 in 120 ms, reachable (needs a key)",
        "PASS  GET /v1/client/prompts: HTTP 401 in 120 ms, reachable (needs a key)",
    ]


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (lambda api: api.connection_refused(times=1), "ConnectError: [Errno 111]"),
        (lambda api: api.timeout(times=1), "ReadTimeout"),
        (lambda api: api.server_error(times=1, status=503), "HTTP 503 in 0 ms, the API failed"),
        (
            lambda api: api.malformed_body(
                times=1, status=200, body=b"<html>Blocked</html>", content_type="text/html"
            ),
            "not a PromptOps answer",
        ),
    ],
)
def test_http_failure_is_reported_and_the_next_path_still_checked(
    mock_api: MockPromptOpsAPI, fault: object, detail: str
) -> None:
    fault(mock_api)  # type: ignore[operator]
    checks = asyncio.run(check_http(BASE, PATHS, clock=mock_api.clock))
    assert [c.status for c in checks] == ["FAIL", "PASS", "PASS"]
    assert detail in checks[0].detail


def tls_check(clock: FakeClock, **server: object) -> str:
    async def main() -> str:
        async with local_tls_server(**server) as tls:  # type: ignore[arg-type]
            check = await check_tls(
                "api.promptops.com",
                tls.port,
                connect_to=tls.host,
                context=tls.client_context,
                clock=clock,
            )
            return str(check)

    return asyncio.run(main())


def test_tls_valid_certificate(clock: FakeClock) -> None:
    assert tls_check(clock) == (
        "PASS  TLS api.promptops.com: api.promptops.com, issued by PromptOps Mock CA, "
        "expires 2099-12-31 (27027 days left)"
    )


def test_tls_certificate_expiring_soon_is_a_warning(clock: FakeClock) -> None:
    real_now = datetime.now(UTC)
    clock.advance(real_now.timestamp() - clock.time())  # the check's clock at real time
    result = tls_check(clock, valid_until=real_now + timedelta(days=10, hours=1))
    assert result.startswith("WARN") and "(10 days left)" in result


@pytest.mark.parametrize(("days", "status"), [(13, "WARN"), (14, "PASS")])
def test_tls_warns_under_14_days_left(clock: FakeClock, days: int, status: str) -> None:
    real_now = datetime.now(UTC)
    clock.advance(real_now.timestamp() - clock.time())
    result = tls_check(clock, valid_until=real_now + timedelta(days=days, hours=1))
    assert result.startswith(f"{status}  TLS api.promptops.com: ")
    assert result.endswith(f"({days} days left)")


def test_tls_expired_certificate_fails(clock: FakeClock) -> None:
    result = tls_check(
        clock,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_until=datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert result.startswith("FAIL") and "certificate has expired" in result


def test_tls_certificate_for_another_host_fails(clock: FakeClock) -> None:
    result = tls_check(clock, hostname="other.example")
    assert result == (
        "FAIL  TLS api.promptops.com: CERTIFICATE_VERIFY_FAILED: Hostname mismatch, certificate "
        "is not valid for 'api.promptops.com'."
    )


def test_tls_untrusted_ca_fails_with_openssls_reason_and_no_source_line(clock: FakeClock) -> None:
    """Not `(_ssl.c:1000)`: the line of OpenSSL's source differs between Python versions,
    and the doctor's pages show this text."""

    async def main() -> str:
        async with local_tls_server() as tls:
            return str(await check_tls("api.promptops.com", tls.port, connect_to=tls.host))

    assert asyncio.run(main()) == (
        "FAIL  TLS api.promptops.com: CERTIFICATE_VERIFY_FAILED: "
        "unable to get local issuer certificate"
    )


def test_tcp_connects_to_a_listening_port() -> None:
    async def main() -> str:
        async with local_tls_server() as tls:
            return str(await check_tcp("api.promptops.com", connect_to=(tls.host, tls.port)))

    assert asyncio.run(main()) == "PASS  TCP api.promptops.com:443: accepts connections"


def test_tcp_to_a_closed_port_fails_with_the_os_reason() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check = asyncio.run(check_tcp("127.0.0.1", port))
    assert str(check) == f"FAIL  TCP 127.0.0.1:{port}: [Errno 111] Connection refused"


def test_tcp_that_never_connects_fails_at_its_time_limit(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(*args: object, **kwargs: object) -> None:  # a firewall that drops packets
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio, "open_connection", never)
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        result = str(runner.run(check_tcp("api.promptops.com", time_limit=3)))
    assert result == "FAIL  TCP api.promptops.com:443: no connection within 3 s"
    assert clock.monotonic() == 3


def test_tls_that_never_completes_a_handshake_fails_at_its_time_limit(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(*args: object, **kwargs: object) -> None:  # a server that never speaks TLS
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio, "open_connection", never)
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        check = runner.run(check_tls("api.promptops.com", time_limit=4))
    assert str(check) == "FAIL  TLS api.promptops.com: no handshake within 4 s"
    assert clock.monotonic() == 4


def test_http_reading_the_body_fails_on_a_body_that_never_ends(clock: FakeClock) -> None:
    """The headers arrive, the body trickles: only reading it shows the server is broken."""
    with MockPromptOpsAPI(clock=clock) as api:
        api.trickle(times=2, interval=1.0)
        with asyncio.Runner(loop_factory=clock.event_loop) as runner:
            headers_only = runner.run(check_http(BASE, ["/v1/health"], time_limit=5))
            whole = runner.run(check_http(BASE, ["/v1/health"], time_limit=5, read_body=True))
    assert [str(c) for c in headers_only] == ["PASS  GET /v1/health: HTTP 200 in 0 ms"]
    assert [str(c) for c in whole] == ["FAIL  GET /v1/health: no answer within 5 s"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"success": true, "data": ', "a body not a PromptOps JSON envelope"),
        (b"[]", "a body not a PromptOps JSON envelope"),
        (b"[" * 100_000, "a body over 64 KiB"),
        (b'{"success": true, "pad": "' + b"x" * BODY_LIMIT + b'"}', "a body over 64 KiB"),
    ],
    ids=["truncated", "a-list", "deep", "huge"],
)
def test_http_reading_the_body_fails_on_a_body_that_is_no_health_answer(
    mock_api: MockPromptOpsAPI, body: bytes, problem: str
) -> None:
    """A proxy's JSON error page, or an endless one, is not the API's health."""
    mock_api.malformed_body(body=body, path="/v1/health")
    (check,) = asyncio.run(check_http(BASE, ["/v1/health"], clock=mock_api.clock, read_body=True))
    assert str(check) == f"FAIL  GET /v1/health: HTTP 200 in 0 ms, {problem}"


def test_tls_nothing_listening_fails(clock: FakeClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check = asyncio.run(check_tls("api.promptops.com", port, connect_to="127.0.0.1"))
    assert check.status == "FAIL"


def test_one_failing_check_does_not_stop_the_others(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    async def failing_resolver(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def main() -> int:
        async with local_tls_server() as tls:
            return await run_network_diagnostics(
                resolve=failing_resolver,
                connect_to=(tls.host, tls.port),
                tls_context=tls.client_context,
            )

    assert asyncio.run(main()) == 1
    output = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in output[:-1]] == ["FAIL", *["PASS"] * 5]
    assert output[-1] == "1 of 6 checks failed"


def test_command_line_mock_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert network_diagnostics.main(["--mock"]) == 0
    output = capsys.readouterr().out
    assert "PASS  GET /v1/health: HTTP 200 in 35 ms" in output
    assert "PASS  TCP api.promptops.com:443: accepts connections" in output
    assert output.endswith("All 6 checks passed\n")


def test_the_host_port_and_scheme_come_from_promptops_base_url(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong PROMPTOPS_BASE_URL is what the common issues page sends readers here for."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "http://localhost:8080")

    async def main() -> int:
        async with local_tls_server() as stand_in:  # listens where the TCP check connects
            return await run_network_diagnostics(connect_to=(stand_in.host, stand_in.port))

    with MockPromptOpsAPI(clock=clock) as mock_api:  # answers where PROMPTOPS_BASE_URL points
        assert asyncio.run(main()) == 0
    output = capsys.readouterr().out.splitlines()
    assert output[0].startswith("PASS  DNS localhost: ")
    assert output[1] == "PASS  TCP localhost:8080: accepts connections"
    assert [line.split()[1] for line in output[2:5]] == ["GET", "GET", "GET"]
    assert output[5] == "WARN  TLS localhost: not used: the base URL is plain http"
    assert output[-1] == "6 checks: none failed, 1 with a warning"
    assert {str(r.url.netloc, "ascii") for r in mock_api.requests} == {"localhost:8080"}


async def loopback_only(host: str) -> list[str]:
    """A resolver that knows 127.0.0.1 only: no DNS query leaves the machine."""
    if host != "127.0.0.1":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ["127.0.0.1"]


def test_the_checks_follow_promptops_base_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The common issues page sends readers with a wrong base URL here: test that one."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    with serve(MockASGIApp(api)) as base_url:
        monkeypatch.setenv("PROMPTOPS_BASE_URL", base_url)
        assert asyncio.run(run_network_diagnostics(resolve=loopback_only)) == 0
    lines = capsys.readouterr().out.splitlines()
    port = int(base_url.rsplit(":", 1)[1])
    assert [" ".join(line.split()[:3]).rstrip(":") for line in lines] == [
        "PASS DNS 127.0.0.1",
        f"PASS TCP 127.0.0.1:{port}",
        "PASS GET /v1/health",
        "PASS GET /v1/client/health",
        "PASS GET /v1/client/prompts",
        "WARN TLS 127.0.0.1",
        "6 checks: none",
    ]
    assert [r.url.port for r in api.requests] == [port] * 3


def test_an_unusable_base_url_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://user:po_live_in_url@api.promptops.com")
    assert asyncio.run(run_network_diagnostics(resolve=loopback_only)) == 1
    assert capsys.readouterr().out == (
        "FAIL  Configuration: PROMPTOPS_BASE_URL must not contain a user or password "
        "('https://***@api.promptops.com'): the client signs in with the API key\n"
    )


def test_the_port_of_the_base_url_is_the_one_checked_and_shown(
    clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stand-in server listens elsewhere; the lines name the port the client would use."""

    async def main() -> int:
        async with local_tls_server() as tls:
            base_url = "https://api.promptops.com:8443"
            with MockPromptOpsAPI(clock=clock, base_url=base_url) as api:  # answers there
                code = await run_network_diagnostics(
                    base_url=base_url,
                    resolve=simulated_resolver,
                    connect_to=(tls.host, tls.port),
                    tls_context=tls.client_context,
                )
                assert {r.url.port for r in api.requests} == {8443}
                return code

    assert asyncio.run(main()) == 0
    assert "PASS  TCP api.promptops.com:8443: accepts connections" in capsys.readouterr().out


def test_every_check_keeps_to_the_time_limit_given(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A network that swallows everything: each check gives up at `time_limit`, not at its
    own default."""

    async def never(*args: object, **kwargs: object) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(asyncio, "open_connection", never)
    with (
        MockPromptOpsAPI(clock=clock) as api,
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
    ):
        api.timeout(times=3)
        assert runner.run(run_network_diagnostics(base_url=BASE, resolve=never, time_limit=3)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "FAIL  DNS api.promptops.com: no answer within 3 s",
        "FAIL  TCP api.promptops.com:443: no connection within 3 s",
        "FAIL  GET /v1/health: ReadTimeout: timed out",  # httpx's read timeout, set to 3 s
        "FAIL  GET /v1/client/health: ReadTimeout: timed out",
        "FAIL  GET /v1/client/prompts: ReadTimeout: timed out",
        "FAIL  TLS api.promptops.com: no handshake within 3 s",
        "6 of 6 checks failed",
    ]
    assert clock.monotonic() == 6 * 3


def test_a_plain_http_base_url_is_checked_on_port_80(
    clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    async def main() -> int:
        async with local_tls_server() as stand_in:
            with MockPromptOpsAPI(clock=clock, base_url="http://api.promptops.com"):
                return await run_network_diagnostics(
                    base_url="http://api.promptops.com",
                    resolve=simulated_resolver,
                    connect_to=(stand_in.host, stand_in.port),
                )

    assert asyncio.run(main()) == 0
    assert "PASS  TCP api.promptops.com:80: accepts connections" in capsys.readouterr().out


def test_the_command_without_mock_checks_the_configured_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No `--mock`: the checks run against PROMPTOPS_BASE_URL (here one that cannot be used,
    so that nothing leaves the machine)."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "ftp://api.promptops.com")
    assert network_diagnostics.main([]) == 1
    assert capsys.readouterr().out.startswith("FAIL  Configuration: PROMPTOPS_BASE_URL ")


def test_the_system_resolver_returns_each_address_once() -> None:
    assert asyncio.run(system_resolver("127.0.0.2")) == ["127.0.0.2"]


def test_every_address_a_name_resolves_to_is_listed() -> None:
    async def two(host: str) -> list[str]:
        return ["203.0.113.10", "2001:db8::10"]

    (check,) = asyncio.run(check_dns(["api.promptops.com"], two))
    assert str(check) == "PASS  DNS api.promptops.com: 203.0.113.10, 2001:db8::10"


def test_a_path_that_times_out_does_not_stop_the_next(clock: FakeClock) -> None:
    with MockPromptOpsAPI(clock=clock) as api:
        api.trickle(times=1, interval=1.0)
        with asyncio.Runner(loop_factory=clock.event_loop) as runner:
            checks = runner.run(check_http(BASE, PATHS, time_limit=2, read_body=True))
    assert [str(c) for c in checks] == [
        "FAIL  GET /v1/health: no answer within 2 s",
        "PASS  GET /v1/client/health: HTTP 401 in 0 ms, reachable (needs a key)",
        "PASS  GET /v1/client/prompts: HTTP 401 in 0 ms, reachable (needs a key)",
    ]
