"""Clock skew from the Date header (snippets/authentication/clock_skew.py)."""

from __future__ import annotations

import asyncio
import re

import pytest

from snippets.authentication import clock_skew
from snippets.authentication.clock_skew import explain_skew, judge_skew, measure_clock_skew
from snippets.client import ConfigurationError, NetworkError, RequestTimeoutError, ServerError
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.tls import local_tls_server


@pytest.mark.parametrize("server_ahead", [0, 42, -420, 3600])
def test_measures_the_offset_the_server_has(mock_api: MockPromptOpsAPI, server_ahead: int) -> None:
    mock_api.clock_skew(server_ahead)
    assert asyncio.run(measure_clock_skew(clock=mock_api.clock)) == pytest.approx(
        -server_ahead, abs=1
    )


def test_works_with_a_wrong_key(
    mock_api: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_wrong")
    mock_api.clock_skew(-420)
    assert asyncio.run(measure_clock_skew(clock=mock_api.clock)) == 420


@pytest.mark.parametrize(
    ("offset", "start"),
    [
        (0, "OK"),
        (-3, "OK"),
        (5.9, "OK"),  # whole seconds, as the Date header counts
        (6, "WARN"),
        (30, "WARN"),
        (-300, "WARN"),
        (301, "ERROR"),
        (-420, "ERROR"),
    ],
)
def test_verdicts(offset: float, start: str) -> None:
    assert explain_skew(offset).startswith(start)


def test_the_verdict_comes_as_a_level_and_a_reason_for_tools_that_build_on_it() -> None:
    assert judge_skew(0.4) == ("OK", "clock within 0 s of the server")
    assert judge_skew(-42) == ("WARN", "clock 42 s behind the server; sync it (NTP)")
    level, reason = judge_skew(420)
    assert (level, explain_skew(420)) == ("ERROR", f"ERROR: {reason}")


def test_direction_is_worded_from_this_machine() -> None:
    assert "420 s ahead of the server" in explain_skew(420)
    assert "420 s behind the server" in explain_skew(-420)


def test_command_line_mock_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert clock_skew.main(["--mock"]) == 0
    assert capsys.readouterr().out == "OK: clock within 0 s of the server\n"


@pytest.mark.parametrize(("offset", "exit_code"), [(420, 1), (30, 0), (0, 0)])
def test_the_command_exits_1_only_when_every_request_would_be_rejected(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    offset: float,
    exit_code: int,
) -> None:
    async def measured(*args: object, **kwargs: object) -> float:
        return offset

    monkeypatch.setattr(clock_skew, "measure_clock_skew", measured)
    assert asyncio.run(clock_skew._check()) == exit_code
    assert capsys.readouterr().out == f"{explain_skew(offset)}\n"


def test_a_missing_date_header_is_a_server_error(mock_api: MockPromptOpsAPI) -> None:
    mock_api.malformed_body(body=b"{}", status=200)
    with pytest.raises(ServerError) as caught:
        asyncio.run(measure_clock_skew(clock=mock_api.clock))
    assert caught.value.message == "GET /v1/health answered HTTP 200 without a valid Date header"
    assert caught.value.status_code == 200
    assert [r.url.path for r in mock_api.requests] == ["/v1/health"]


def test_an_unreachable_api_is_a_network_error(mock_api: MockPromptOpsAPI) -> None:
    mock_api.connection_refused()
    with pytest.raises(NetworkError, match=r"\[Errno 111\] Connection refused"):
        asyncio.run(measure_clock_skew(clock=mock_api.clock))


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("", "PROMPTOPS_BASE_URL must be an http(s) URL"),
        ("http://user:secret@127.0.0.1:9", "must not contain a user or password"),
        ("https://127.0.0.1:99999", "ports are 1 to 65535"),
    ],
)
def test_the_base_url_is_checked_as_the_client_checks_it(
    base_url: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: an empty value meant the default, and credentials went out as Basic auth."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", base_url)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        asyncio.run(measure_clock_skew())


def test_a_health_answer_that_never_ends_is_cut_at_10_s_by_default(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A byte a second never trips a read timeout: only the deadline ends the measurement."""
    mock_api.trickle(interval=1.0)
    with (
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
        pytest.raises(RequestTimeoutError) as caught,
    ):
        runner.run(measure_clock_skew(clock=clock))
    assert caught.value.message == "GET /v1/health: no answer within 10 s"
    assert clock.monotonic() == pytest.approx(10)


def test_the_certificate_is_verified_by_default() -> None:
    """A server whose certificate no trusted CA signed (here a private CA's, on 127.0.0.1):
    no Date header is believed from it."""

    async def main() -> float:
        async with local_tls_server("api.promptops.com") as server:
            return await measure_clock_skew(f"https://{server.host}:{server.port}")

    with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(main())


def test_a_base_url_passed_in_is_named_as_such_when_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        asyncio.run(measure_clock_skew("ftp://api.promptops.com"))
    assert str(caught.value).startswith("base_url must be an http(s) URL")
