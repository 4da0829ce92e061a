"""Clock skew from the Date header of the public health endpoint
(snippets/authentication/clock_skew.py): measured through the client's probe, judged in whole
seconds against the signature's 300 s window, and never an exception whatever the server sends."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from snippets.authentication import clock_skew
from snippets.authentication.clock_skew import (
    CHECKS,
    NTP_FIX,
    UNMEASURED_FIX,
    check_clock,
    judge_skew,
    measure_clock_skew,
)
from snippets.checks import CheckContext, Outcome, Report, run_checks
from snippets.client import (
    NetworkError,
    PromptOpsClient,
    RequestTimeoutError,
    ServerError,
    read_settings,
)
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.tls import local_tls_server

from ..encoding_bomb import gzip_gzip_bomb
from ..environ import clean_environment

BASE = "https://api.promptops.com"
HEALTHY = b'{"success": true, "data": {"status": "healthy"}}'
NO_DATE_FIX = "A proxy in front of the API may drop the Date header: ask it"


def measure(
    clock: FakeClock, *, timeout: float = 30, transport: httpx.AsyncBaseTransport | None = None
) -> float:
    """`measure_clock_skew` with a client as the check builds it: no key."""
    settings = read_settings({}, require_key=False)

    async def main() -> float:
        client = PromptOpsClient(
            settings=settings, clock=clock, timeout=timeout, transport=transport
        )
        async with client:
            return await measure_clock_skew(client)

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(main())


def check(clock: FakeClock, environ: dict[str, str] | None = None, deadline: float = 30) -> Report:
    """The clock-skew tool's report, on `clock`'s event loop."""
    ctx = CheckContext(environ or {}, clock=clock, deadline=deadline)
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(run_checks("clock-skew", CHECKS, ctx))


def found(report: Report) -> tuple[str, str, str | None]:
    (finding,) = report.findings
    return finding.status, finding.detail, finding.fix


@contextmanager
def health_answers(response: httpx.Response) -> Iterator[respx.MockRouter]:
    """The public health endpoint answers `response` (any other request fails loudly)."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{BASE}/v1/health").mock(return_value=response)
        yield router


# -- measuring ------------------------------------------------------------------------------


@pytest.mark.parametrize("server_ahead", [0, 42, -420, 3600])
def test_measures_the_offset_the_server_has(
    mock_api: MockPromptOpsAPI, clock: FakeClock, server_ahead: int
) -> None:
    mock_api.clock_skew(server_ahead)
    assert measure(clock) == -server_ahead


def test_measuring_sends_no_key_so_it_works_while_authentication_fails(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.revoke_key(mock_api.api_key)
    mock_api.clock_skew(-420)
    assert measure(clock) == 420
    (request,) = mock_api.requests
    assert request.url.path == "/v1/health" and "Authorization" not in request.headers


def test_the_server_time_is_taken_at_the_middle_of_the_round_trip(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """The mock stamps its Date after 4 s of latency: sent at t, answered at t+4, the server's
    time is read as of t+2."""
    mock_api.simulate_latency(4)
    assert measure(clock) == -2


# -- the verdicts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "status", "detail"),
    [
        (0, "ok", "clock within 0 s of the server"),
        (-3, "ok", "clock within 3 s of the server"),
        (5, "ok", "clock within 5 s of the server"),
        (5.99, "ok", "clock within 5 s of the server"),  # whole seconds, as the Date header counts
        (-5.99, "ok", "clock within 5 s of the server"),
        (6, "warning", "clock 6 s ahead of the server: sync it before it passes 300 s"),
        (-6, "warning", "clock 6 s behind the server: sync it before it passes 300 s"),
        (300, "warning", "clock 300 s ahead of the server: sync it before it passes 300 s"),
        (-300.99, "warning", "clock 300 s behind the server: sync it before it passes 300 s"),
        (
            301,
            "failure",
            "clock 301 s ahead of the server, over the 300 s window: every request is rejected",
        ),
        (
            -420,
            "failure",
            "clock 420 s behind the server, over the 300 s window: every request is rejected",
        ),
    ],
)
def test_the_three_verdicts_at_their_boundaries(offset: float, status: str, detail: str) -> None:
    outcome = judge_skew(offset)
    assert (outcome.status, outcome.detail) == (status, detail)
    assert outcome.fix is None  # the check's own: sync the clock


@pytest.mark.parametrize(("offset", "measured"), [(0.4, 0.0), (-42.7, -42.0), (420, 420.0)])
def test_the_offset_is_measured_for_monitoring_in_whole_seconds(
    offset: float, measured: float
) -> None:
    assert judge_skew(offset).measurements == {"offset_seconds": measured}


@pytest.mark.parametrize(
    ("server_ahead", "status"),
    [(0, "ok"), (-5, "ok"), (6, "warning"), (-300, "warning"), (301, "failure"), (-301, "failure")],
)
def test_the_check_judges_what_the_mock_s_clock_says(
    mock_api: MockPromptOpsAPI, clock: FakeClock, server_ahead: int, status: str
) -> None:
    mock_api.clock_skew(server_ahead)
    report = check(clock)
    assert found(report)[0] == status
    assert report.findings[0].measurements == {"offset_seconds": float(-server_ahead)}
    assert report.exit_code == {"ok": 0, "warning": 1, "failure": 2}[status]
    if status != "ok":
        assert report.findings[0].fix == NTP_FIX


# -- what the server sends --------------------------------------------------------------------


@pytest.mark.parametrize(
    "date",
    [
        None,
        "",
        "yesterday",
        "Sun, 06 Nov 99999999999999999999 08:49:37 GMT",  # escaped as OverflowError once
        "Sun, 06 Nov 1994 25:61:99 GMT",
        "Sun, 06 Nov 10000 08:49:37 GMT",
    ],
    ids=["missing", "empty", "a-word", "20-digit-year", "no-such-time", "year-10000"],
)
def test_a_date_header_that_is_no_date_is_a_finding_never_an_exception(
    clock: FakeClock, date: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if date is not None:
        headers["Date"] = date
    with health_answers(httpx.Response(200, content=HEALTHY, headers=headers)):
        report = check(clock)
        with pytest.raises(ServerError) as caught:
            measure(clock)
    assert found(report) == (
        "failure",
        "GET /v1/health answered HTTP 200 without a valid Date header",
        NO_DATE_FIX,
    )
    assert caught.value.message == "GET /v1/health answered HTTP 200 without a valid Date header"
    assert caught.value.status_code == 200


def test_any_answer_s_date_is_read_a_proxy_s_error_page_too(clock: FakeClock) -> None:
    headers = {"Content-Type": "text/html", "Date": "Thu, 01 Jan 2026 00:07:00 GMT"}
    with health_answers(httpx.Response(502, content=b"<h1>Bad Gateway</h1>", headers=headers)):
        assert measure(clock) == -420


def test_an_unreachable_api_is_not_blamed_on_this_machine_s_clock(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.connection_refused()
    assert found(check(clock)) == (
        "failure",
        "NETWORK_ERROR: Could not reach https://api.promptops.com: [Errno 111] Connection refused",
        UNMEASURED_FIX,
    )
    mock_api.connection_refused()
    with pytest.raises(NetworkError, match=r"\[Errno 111\] Connection refused"):
        measure(clock)


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("", "PROMPTOPS_BASE_URL is empty: unset it for the default"),
        (
            "http://user:secret@127.0.0.1:9",
            "PROMPTOPS_BASE_URL must not contain a user or password ('http://***@127.0.0.1:9'): "
            "the client signs in with the API key",
        ),
        ("https://127.0.0.1:99999", "PROMPTOPS_BASE_URL has port 99999: ports are 1 to 65535"),
        (
            "https://xn--a.com",
            "PROMPTOPS_BASE_URL has an invalid host name ('https://xn--a.com'): Codepoint U+0080 "
            "at position 1 of '\\x80' not allowed",
        ),
    ],
)
def test_the_base_url_is_checked_as_the_client_checks_it(
    clock: FakeClock, base_url: str, message: str
) -> None:
    """Before: an empty value meant the default, and credentials went out as Basic auth. Not
    a clock problem: the fix does not say to sync the clock."""
    assert found(check(clock, {"PROMPTOPS_BASE_URL": base_url})) == (
        "failure",
        message,
        UNMEASURED_FIX,
    )


def test_a_health_answer_that_never_ends_runs_out_of_the_run_s_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A byte a second never trips a read timeout: only the deadline ends the measurement."""
    mock_api.trickle(times=9, interval=1.0)
    report = check(clock, deadline=10)
    assert found(report)[:2] == ("failure", "ran out of time: no result within the 10 s deadline")
    assert report.exit_code == 2
    assert clock.monotonic() == pytest.approx(10)


def test_measuring_alone_keeps_to_the_client_s_deadline(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.trickle(times=9, interval=1.0)
    started = clock.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        measure(clock, timeout=10)
    assert caught.value.message == (
        "GET /v1/health: no answer within the 10 s deadline (1 attempt; it timed out reading the "
        "answer)"
    )
    assert clock.monotonic() - started == pytest.approx(10)


def test_the_certificate_is_verified_with_the_client_s_cas(clock: FakeClock) -> None:
    """A server whose certificate no trusted CA signed (here a private CA's, on 127.0.0.1):
    no Date header is believed from it."""

    async def main() -> Report:
        async with local_tls_server("api.promptops.com") as server:
            environ = {"PROMPTOPS_BASE_URL": f"https://{server.host}:{server.port}"}
            return await check_clock(environ)

    status, detail, fix = found(asyncio.run(main()))
    assert (status, fix) == ("failure", UNMEASURED_FIX)
    assert detail.startswith("NETWORK_ERROR: Could not reach https://127.0.0.1:")
    assert "CERTIFICATE_VERIFY_FAILED" in detail


# -- an encoding bomb ------------------------------------------------------------------------


class _Body(httpx.AsyncByteStream):
    """A body handed over as it would arrive: a stream, not decoded by httpx on the way."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._content


def bomb_answer(clock: FakeClock) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip, gzip",
        "Date": "Thu, 01 Jan 2026 00:00:00 GMT",
    }
    return httpx.Response(200, headers=headers, stream=_Body(gzip_gzip_bomb()))


BOMB_REFUSED = (
    "SERVER_ERROR: GET /v1/health answered HTTP 200 with a body of more than 65536 bytes once "
    "decompressed, over the 65536 byte limit (max_response_bytes)"
)
PEAK_LIMIT = 10 * 1024 * 1024
"""Bytes the bomb may cost at most: far under 100 MB (it once cost 2 GB)."""


def test_a_gzip_gzip_bomb_ends_in_a_server_error_finding_within_a_few_megabytes(
    clock: FakeClock,
) -> None:
    """2.5 KB that expand to 1 GiB: the client decodes 64 KiB at a time and stops at the
    limit of the probe."""
    gzip_gzip_bomb()  # made before measuring
    with health_answers(bomb_answer(clock)):
        tracemalloc.start()
        try:
            report = check(clock)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert found(report) == ("failure", BOMB_REFUSED, UNMEASURED_FIX)
    assert peak < PEAK_LIMIT


def test_a_gzip_gzip_bomb_served_by_a_mock_transport_is_refused_within_a_few_megabytes(
    clock: FakeClock,
) -> None:
    gzip_gzip_bomb()
    transport = httpx.MockTransport(lambda request: bomb_answer(clock))
    tracemalloc.start()
    try:
        with pytest.raises(ServerError) as caught:
            measure(clock, transport=transport)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"SERVER_ERROR: {caught.value.message}" == BOMB_REFUSED
    assert peak < PEAK_LIMIT


# -- the command line -------------------------------------------------------------------------


def test_command_line_mock_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_environment(monkeypatch)
    assert clock_skew.main(["--mock"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "PromptOps clock skew: https://api.promptops.com (simulated API: --mock healthy)",
        "ok    Clock skew            clock within 0 s of the server",
        "1 ok, 0 warnings, 0 failures, 0 skipped",
    ]


def test_command_line_mock_clock_skew_scenario(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    time_machine: Any,
) -> None:
    """The wall clock held still mid-second: the Date header counts whole seconds, so a run
    that crossed a second boundary once read 419 s."""
    time_machine.move_to(datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC), tick=False)
    clean_environment(monkeypatch)
    assert clock_skew.main(["--mock", "clock-skew"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "FAIL  Clock skew            clock 420 s ahead of the server, over the 300 s window: "
        "every request is rejected"
    )
    assert lines[2].strip() == f"fix: {NTP_FIX}"


@pytest.mark.parametrize(("server_ahead", "exit_code"), [(0, 0), (-30, 1), (-420, 2)])
def test_command_line_json_exit_codes(
    server_ahead: int,
    exit_code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    time_machine: Any,
) -> None:
    """Without --mock, on the system clock, against a mock whose clock is the system one too.
    The wall clock is held still mid-second: the Date header counts whole seconds, and a slow
    answer on a busy machine once moved the reading a second (29 s for 30)."""
    time_machine.move_to(datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC), tick=False)
    clean_environment(monkeypatch)
    with MockPromptOpsAPI(clock=SYSTEM_CLOCK) as api:
        api.clock_skew(server_ahead)
        assert clock_skew.main(["--json"]) == exit_code
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == exit_code and report["tool"] == "clock-skew"
    (finding,) = report["checks"]
    assert finding["id"] == "clock"
    assert finding["status"] == {0: "ok", 1: "warning", 2: "failure"}[exit_code]
    assert finding["measurements"]["offset_seconds"] == -server_ahead, finding


def test_the_verdict_is_an_outcome_for_tools_that_build_on_it() -> None:
    assert judge_skew(-42) == Outcome(
        "warning",
        "clock 42 s behind the server: sync it before it passes 300 s",
        None,
        {"offset_seconds": -42.0},
    )
