"""How the doctor runs its checks (`run_doctor`, on `snippets.checks.run_checks`): what a failure
skips, the one deadline, and what never reaches the report (secrets, raw server text, numbers
JSON cannot hold)."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from snippets.checks import Network
from snippets.client import PromptOpsClient
from snippets.client.clock import FakeClock
from snippets.doctor import CHECKS, run_doctor
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.offline import simulated_resolver
from snippets.scenarios import LASTING

from ..local_server import refused_port
from .helpers import SETTINGS, by_id, diagnose, statuses

AFTER_DNS = [check.id for check in CHECKS][[check.id for check in CHECKS].index("dns") + 1 :]


def test_a_skipped_check_names_the_failure_it_follows_from_not_the_skip_before_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def no_dns(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    report = diagnose(clock, resolve=no_dns)
    after_dns = [finding for finding in report.findings if finding.id in AFTER_DNS]
    assert [f.id for f in after_dns] == AFTER_DNS
    assert {f.detail for f in after_dns} == {"needs DNS, which failed"}
    assert {f.status for f in after_dns} == {"skipped"}
    assert not any(f.ran_out_of_time for f in after_dns)
    assert mock_api.requests == []  # nothing that needs DNS was tried


def test_the_deadline_cuts_a_check_that_never_ends_and_says_which_it_was(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A body that takes 100 s a byte: the run ends at the deadline, on fake time."""
    mock_api.trickle(times=LASTING, interval=100)
    report = diagnose(clock, deadline=4)
    # The deadline is kept on the event loop's clock, here the fake one, and the run ended at
    # its instant: 4 s after the start, however long the TCP and TLS checks' real sockets took
    # (their time is inside the 4 s). The loop jumped there; had it waited for the deadline in
    # real time, it would have woken late, past 4 s.
    assert clock.monotonic() == pytest.approx(4, abs=1e-9)
    found = by_id(report)
    health = found["public-health"]
    assert (health.status, health.detail) == (
        "failure",
        "ran out of time: no result within the 4 s deadline",
    )
    assert health.fix == (
        "A proxy or firewall holding the connection, or an overloaded API? --deadline waits longer"
    )
    assert [f.id for f in report.ran_out_of_time] == ["public-health"]
    assert found["api-paths"].detail == "needs Public health, which ran out of time"
    assert found["clock"].detail == "needs Public health, which ran out of time"
    assert not found["clock"].ran_out_of_time  # it waited on a check that did, not on time
    assert report.summary().endswith("; ran out of time (4 s deadline): Public health")
    assert report.as_json()["ran_out_of_time"] == ["public-health"]
    assert report.exit_code == 2


def test_checks_after_the_deadline_are_not_run_and_count_as_out_of_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A lookup that spends the time without ever yielding cannot be cut: it ends late, and
    what comes after it is not started."""

    async def lookup_spending_the_deadline(host: str) -> list[str]:
        clock.block(10)
        return ["203.0.113.10"]

    report = diagnose(clock, deadline=5, resolve=lookup_spending_the_deadline)
    found = by_id(report)
    assert found["dns"].status == "ok"
    assert found["tcp"].status == "skipped" and found["tcp"].ran_out_of_time
    assert found["tcp"].detail == "not run: the 5 s deadline had passed"
    assert found["latency"].detail == "not run: the 5 s deadline had passed"
    assert found["latency"].ran_out_of_time  # skipped after TCP, for the same reason
    assert report.summary() == (
        "5 ok, 0 warnings, 0 failures, 10 skipped; ran out of time (5 s deadline): TCP connect, "
        "TLS, Public health, API paths, Clock skew, Rate limit, Authenticated health, Prompt "
        "retrieval, Rendering, Latency"
    )
    assert report.exit_code == 2  # nothing failed, but most was never checked
    assert mock_api.requests == []


def test_an_unexpected_error_in_one_check_fails_that_check_only(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def broken(host: str) -> list[str]:
        raise RuntimeError("resolver bug")

    report = diagnose(clock, resolve=broken)
    assert statuses(report)["dns"] == "failure"
    assert by_id(report)["dns"].detail == "RuntimeError: resolver bug"
    assert by_id(report)["base-url"].status == "ok"
    assert by_id(report)["dns"].fix == (
        "Check the host in PROMPTOPS_BASE_URL, and this machine's DNS: getent hosts "
        "api.promptops.com"
    )


def test_a_timeout_of_a_check_s_own_is_not_taken_for_the_deadline(
    mock_api: MockPromptOpsAPI, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def gives_up(self: object) -> list[str]:
        raise TimeoutError("the piece gave up")

    monkeypatch.setattr(PromptOpsClient, "list_prompts", gives_up)
    report = diagnose(clock)
    prompt = by_id(report)["prompt"]
    assert (prompt.status, prompt.detail) == ("failure", "TimeoutError: the piece gave up")
    assert not prompt.ran_out_of_time and report.ran_out_of_time == []
    assert prompt.fix == "Read the error: it names the prompt or the field at fault"
    assert by_id(report)["render"].detail == "needs Prompt retrieval, which failed"


def test_a_lookup_s_own_timeout_is_the_lookup_s_failure(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def gives_up(host: str) -> list[str]:
        raise TimeoutError("the resolver gave up")

    report = diagnose(clock, resolve=gives_up)
    assert by_id(report)["dns"].detail == "api.promptops.com does not resolve: the resolver gave up"
    assert report.ran_out_of_time == []


@pytest.mark.parametrize("stalled", ["dns", "tcp"])
def test_a_lookup_or_connection_that_never_ends_runs_out_of_the_doctor_s_time(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    stalled: str,
) -> None:
    """The deadline ends it, not a shorter limit of the check's own: the report says which
    check the time ran out in."""

    async def never(*args: object, **kwargs: object) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    if stalled == "tcp":
        monkeypatch.setattr(asyncio, "open_connection", never)
        report = diagnose(clock, deadline=5)
    else:
        report = diagnose(clock, deadline=5, resolve=never)
    finding = by_id(report)[stalled]
    assert (finding.status, finding.detail) == (
        "failure",
        "ran out of time: no result within the 5 s deadline",
    )
    assert clock.monotonic() == pytest.approx(5, abs=1e-9)  # the deadline's instant


def test_a_check_that_ends_at_the_deadline_exactly_leaves_the_rest_unrun(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def lookup_spending_the_deadline(host: str) -> list[str]:
        clock.block(5)
        return ["203.0.113.10"]

    report = diagnose(clock, deadline=5, resolve=lookup_spending_the_deadline)
    assert by_id(report)["tcp"].detail == "not run: the 5 s deadline had passed"


def test_a_check_that_ends_just_before_the_deadline_lets_the_next_start(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def lookup_spending_almost_all(host: str) -> list[str]:
        clock.block(4.9)
        return ["203.0.113.10"]

    report = diagnose(clock, deadline=5, resolve=lookup_spending_almost_all)
    assert by_id(report)["tcp"].status == "ok"
    assert not by_id(report)["tcp"].ran_out_of_time


def test_a_long_detail_is_cut_at_1000_characters(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def verbose_resolver(host: str) -> list[str]:
        return ["203.0.113.10", *(f"203.0.113.{n}" for n in range(11, 211))]

    detail = by_id(diagnose(clock, resolve=verbose_resolver))["dns"].detail
    shown, _, rest = detail.partition("... (")
    assert len(shown) == 1000
    assert rest.endswith(" more characters)")


def test_without_settings_the_doctor_reads_this_process_s_environment(
    mock_api: MockPromptOpsAPI, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_live_from_the_environment")

    async def main() -> str:
        report = await run_doctor(clock=clock, network=Network(simulated_resolver))
        return by_id(report)["api-key"].detail

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        assert runner.run(main()) == "PROMPTOPS_API_KEY is set (28 characters)"


def test_the_doctor_reports_progress_as_each_check_starts(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    told: list[tuple[int, int, str]] = []

    async def main(port: int) -> None:
        network = Network(simulated_resolver, connect_to=("127.0.0.1", port))
        await run_doctor(
            environ=SETTINGS, clock=clock, network=network, on_progress=lambda *n: told.append(n)
        )

    with refused_port() as port, asyncio.Runner(loop_factory=clock.event_loop) as runner:
        runner.run(main(port))
    assert told == [(n, len(CHECKS), check.title) for n, check in enumerate(CHECKS, start=1)]


def test_the_doctor_reports_what_answers_now_and_retries_nothing(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A 503 from the authenticated health: one request, not the client's three."""
    mock_api.server_error(times=LASTING, path="/v1/client/health")
    diagnose(clock)
    with_key = [r.url.path for r in mock_api.requests if "Authorization" in r.headers]
    assert with_key.count("/v1/client/health") == 1
    assert clock.sleeps == []


def test_the_key_never_reaches_the_report_even_when_a_server_says_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A gateway that quotes the key in its 401, a resolver error that carries it: both are
    shown with the key replaced. (The suite also fails any test whose output holds it.)"""
    echo = json.dumps(
        {
            "success": False,
            "error": {
                "code": "AUTHENTICATION_ERROR",
                "message": f"rejected Authorization: Bearer {MOCK_API_KEY} (key {MOCK_API_KEY})",
            },
        }
    ).encode()
    mock_api.malformed_body(times=LASTING, status=401, body=echo, path="/v1/client")

    async def resolver_quoting_the_key(host: str) -> list[str]:
        return [f"203.0.113.10 ({MOCK_API_KEY})"]

    report = diagnose(clock, resolve=resolver_quoting_the_key)
    text = "\n".join(report.text()) + json.dumps(report.as_json())
    assert MOCK_API_KEY not in text
    assert by_id(report)["auth"].detail == (
        "AUTHENTICATION_ERROR: rejected Authorization: Bearer *** (key ***)"
    )
    assert by_id(report)["dns"].detail == "api.promptops.com resolves to 203.0.113.10 (***)"


def test_a_key_with_quotes_or_spaces_around_it_is_kept_out_in_every_form(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def resolver_quoting_the_key(host: str) -> list[str]:
        return ['"po_live_secret_1a2b3c"', "po_live_secret_1a2b3c", " po_live_secret_1a2b3c "]

    for key in ('"po_live_secret_1a2b3c"', " po_live_secret_1a2b3c\n"):
        report = diagnose(clock, {"PROMPTOPS_API_KEY": key}, resolve=resolver_quoting_the_key)
        assert "secret_1a2b3c" not in "\n".join(report.text()) + json.dumps(report.as_json())


def test_server_text_is_shown_escaped_on_one_line(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A message that would clear the screen and forge a report line of its own."""
    forged = "bad\nok    Authenticated health  all good\x1b[2J\x1b]0;owned\x07"
    body = json.dumps(
        {"success": False, "error": {"code": "SERVER_ERROR", "message": forged}}
    ).encode()
    mock_api.malformed_body(times=LASTING, status=500, body=body, path="/v1/client/health")

    async def forging_resolver(host: str) -> list[str]:  # a DNS answer is a server's text too
        return ["203.0.113.10\x1b[2J\r"]

    report = diagnose(clock, resolve=forging_resolver)
    assert by_id(report)["auth"].detail == (
        "SERVER_ERROR: bad\\nok    Authenticated health  all good\\x1b[2J\\x1b]0;owned\\x07"
    )
    assert by_id(report)["dns"].detail == "api.promptops.com resolves to 203.0.113.10\\x1b[2J\\r"
    for line in report.text():
        assert line.isprintable(), line


def test_the_base_url_is_shown_without_credentials(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    environ = {**SETTINGS, "PROMPTOPS_BASE_URL": "https://alice:s3cret@api.promptops.com"}
    report = diagnose(clock, environ)
    assert "s3cret" not in "\n".join(report.text()) + json.dumps(report.as_json())
    assert report.base_url == "https://***@api.promptops.com"
    assert by_id(report)["base-url"].detail == (
        "PROMPTOPS_BASE_URL must not contain a user or password ('https://***@api.promptops.com')"
        ": the client signs in with the API key"
    )


def test_a_report_is_never_simulated_unless_mock_made_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    report = diagnose(clock)
    assert report.simulated is None
    assert report.header() == "PromptOps doctor: https://api.promptops.com"
    assert report.as_json()["simulated"] is None
    assert report.as_json()["tool"] == "doctor"
