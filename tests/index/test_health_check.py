"""The health check (snippets/index/health_check.py), end to end against the mock API: the key,
a prompt found by listing (or given with --prompt), the cache, and a render with its variables.
It assumes nothing about the API's data beyond the contract."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Iterator

import pytest

from snippets.checks import CheckContext, Report, run_checks
from snippets.client import PromptOpsClient
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.index import health_check
from snippets.index.health_check import CHECKS, run_health_checks
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI

from ..environ import clean_environment

KEYED = {"PROMPTOPS_API_KEY": MOCK_API_KEY}
SETTINGS_FIX = "Fix the setting it names: promptops-config-doctor checks them all"
"""A setting refused: nothing was sent, so the fix is not the key's."""
ALL_OK = [
    ("auth", "ok", "key and signature accepted; the API is healthy (2026.11.0)"),
    ("prompt", "ok", "hello-world v3 (the first of 3 listed)"),
    ("cache", "ok", "the second fetch came from the cache (hit rate 50%)"),
    ("render", "ok", "1 variable(s) set: 'Hello, health-check!' (20 characters)"),
]


def check(
    clock: FakeClock, environ: dict[str, str] | None = None, prompt: str | None = None
) -> Report:
    """The health check's report, on `clock`'s event loop (the mock's clock: the signatures'
    timestamps agree)."""
    ctx = CheckContext(
        KEYED if environ is None else environ, clock=clock, options={"prompt": prompt}
    )
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(run_checks("health-check", CHECKS, ctx))


def lines(report: Report) -> list[tuple[str, str, str]]:
    return [(f.id, f.status, f.detail) for f in report.findings]


def sent(api: MockPromptOpsAPI) -> list[str]:
    return [f"{r.method} {r.url.path}" for r in api.requests]


@pytest.fixture
def greeting_only(mock_api: MockPromptOpsAPI) -> MockPromptOpsAPI:
    """A workspace whose prompts are not the seed ones: one prompt, another variable."""
    mock_api.prompts.clear()
    mock_api.prompts["greeting"] = {
        "name": "Greeting",
        "template": "Hi {{first_name}}, welcome back!",
        "version": 7,
    }
    return mock_api


def test_every_check_passes_against_the_mock(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    report = check(clock)
    assert lines(report) == ALL_OK
    assert report.exit_code == 0
    assert str(report).splitlines()[-1] == "4 ok, 0 warnings, 0 failures, 0 skipped"
    assert sent(mock_api) == [
        "GET /v1/client/health",
        "GET /v1/client/prompts",
        "GET /v1/client/prompts/hello-world",  # once: the second fetch is the cache's
        "POST /v1/client/prompts/hello-world/render",
    ]


def test_it_passes_against_prompts_that_are_not_the_seed_ones(
    greeting_only: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """Nothing is hard-coded: the first prompt the key lists, its own variables set."""
    report = check(clock)
    assert lines(report) == [
        ALL_OK[0],
        ("prompt", "ok", "greeting v7 (the first of 1 listed)"),
        ALL_OK[2],
        ("render", "ok", "1 variable(s) set: 'Hi health-check, welcome back!' (30 characters)"),
    ]
    assert report.exit_code == 0
    render = greeting_only.requests[-1]
    assert json.loads(render.content) == {"variables": {"first_name": "health-check"}}


def test_the_prompt_given_is_the_one_fetched_and_rendered_without_listing(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    report = check(clock, prompt="welcome-message")
    assert lines(report)[1] == ("prompt", "ok", "welcome-message v2")
    assert lines(report)[3][:2] == ("render", "ok")
    assert lines(report)[3][2].startswith('2 variable(s) set: "Welcome to health-check, ')
    assert "GET /v1/client/prompts" not in sent(mock_api)
    assert sent(mock_api)[-1] == "POST /v1/client/prompts/welcome-message/render"


@pytest.mark.parametrize(
    ("prompt", "detail"),
    [
        ("nope", "PROMPT_NOT_FOUND: Prompt 'nope' not found"),
        (
            "../etc",
            "VALIDATION_ERROR: Invalid prompt id '../etc': use 1-128 letters, digits, '-' or '_', "
            "starting with a letter or digit",
        ),
    ],
)
def test_a_prompt_given_that_cannot_be_fetched_fails_and_skips_what_needs_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock, prompt: str, detail: str
) -> None:
    report = check(clock, prompt=prompt)
    assert lines(report)[1:] == [
        ("prompt", "failure", detail),
        ("cache", "skipped", "needs Prompt retrieval, which failed"),
        ("render", "skipped", "needs Prompt retrieval, which failed"),
    ]
    assert report.findings[1].fix == "Read the error: it names the prompt or the field at fault"
    assert report.exit_code == 2


def test_a_key_that_sees_no_prompts_is_a_warning_and_the_rest_is_skipped(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.prompts.clear()
    report = check(clock)
    assert lines(report)[1:] == [
        ("prompt", "warning", "this key sees no prompts"),
        ("cache", "skipped", "no prompt to fetch"),
        ("render", "skipped", "no prompt to render"),
    ]
    assert report.findings[1].fix == "Create a prompt, or check the key's workspace"
    assert report.exit_code == 1
    assert sent(mock_api) == ["GET /v1/client/health", "GET /v1/client/prompts"]


def test_a_wrong_key_fails_once_and_the_rest_is_skipped(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    report = check(clock, {"PROMPTOPS_API_KEY": "po_wrong_key_0123456789"})
    assert lines(report) == [
        ("auth", "failure", "AUTHENTICATION_ERROR: Invalid API key or signature"),
        ("prompt", "skipped", "needs Authenticated health, which failed"),
        ("cache", "skipped", "needs Authenticated health, which failed"),
        ("render", "skipped", "needs Authenticated health, which failed"),
    ]
    assert report.findings[0].fix == (
        "Check PROMPTOPS_API_KEY against the dashboard: revoked, or from another workspace?"
    )
    assert report.exit_code == 2
    assert sent(mock_api) == ["GET /v1/client/health"]  # a 401 is not retried
    assert "po_wrong_key_0123456789" not in str(report) + json.dumps(report.as_json())


def test_a_proxy_s_403_page_is_not_blamed_on_the_key(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A proxy's HTML 403 is an AuthenticationError by its status; the fix says who answered."""
    mock_api.malformed_body(
        times=9, status=403, body=b"<html>Blocked</html>", content_type="text/html"
    )
    report = check(clock)
    assert lines(report)[0] == (
        "auth",
        "failure",
        "AUTHENTICATION_ERROR: GET /v1/client/health answered HTTP 403 with a body that is not "
        "a PromptOps JSON envelope (text/html, 20 bytes)",
    )
    assert report.findings[0].fix == (
        "Not the API's answer: a proxy or gateway on the way refused it; ask its admins to "
        "allow api.promptops.com/v1/client/"
    )
    assert sent(mock_api) == ["GET /v1/client/health"]  # a 403 is not retried


def test_a_missing_key_fails_naming_the_variable_and_sends_nothing(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    report = check(clock, {})
    assert lines(report)[0] == (
        "auth",
        "failure",
        "No API key: pass api_key=... or set the PROMPTOPS_API_KEY environment variable",
    )
    assert [f.status for f in report.findings[1:]] == ["skipped"] * 3
    assert report.findings[0].fix == SETTINGS_FIX
    assert mock_api.requests == []


def test_credentials_in_the_base_url_are_refused_and_never_shown(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    environ = {**KEYED, "PROMPTOPS_BASE_URL": "https://alice:po_live_in_url@api.promptops.com"}
    report = check(clock, environ)
    assert lines(report)[0] == (
        "auth",
        "failure",
        "PROMPTOPS_BASE_URL must not contain a user or password ('https://***@api.promptops.com'):"
        " the client signs in with the API key",
    )
    assert report.findings[0].fix == SETTINGS_FIX  # not the key's: it was never sent
    shown = str(report) + json.dumps(report.as_json())
    assert "po_live_in_url" not in shown and "alice" not in shown
    assert mock_api.requests == []


def test_the_cache_check_warns_when_the_second_fetch_is_a_request(
    mock_api: MockPromptOpsAPI, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client built with cache_ttl=0, as an application that turned the cache off."""
    monkeypatch.setattr(
        "snippets.checks.PromptOpsClient", functools.partial(PromptOpsClient, cache_ttl=0)
    )
    report = check(clock)
    assert lines(report)[2] == ("cache", "warning", "the second fetch was a request")
    assert report.findings[2].fix == "Keep cache_ttl above 0, and reuse one client"
    assert lines(report)[3][1] == "ok"  # rendering needs the prompt, not the cache
    assert report.exit_code == 1
    assert sent(mock_api).count("GET /v1/client/prompts/hello-world") == 2


def test_a_render_the_api_fails_is_a_failure_of_rendering_alone(
    greeting_only: MockPromptOpsAPI, clock: FakeClock
) -> None:
    greeting_only.server_error(times=99, status=500, path="/v1/client/prompts/greeting/render")
    report = check(clock)
    assert [f.status for f in report.findings] == ["ok", "ok", "ok", "failure"]
    assert report.findings[3].detail == "SERVER_ERROR: The server is temporarily unavailable"
    assert report.findings[3].fix == (
        "Read the error: it names the prompt or the variable at fault"
    )


def test_an_answer_the_client_retries_does_not_fail_the_check(
    greeting_only: MockPromptOpsAPI, clock: FakeClock
) -> None:
    greeting_only.rate_limit(times=1, retry_after=2, path="/v1/client/prompts")
    report = check(clock)
    assert report.exit_code == 0
    assert sent(greeting_only).count("GET /v1/client/prompts") == 2


# -- run_health_checks and the command line ---------------------------------------------------


@pytest.fixture
def real_time_mock() -> Iterator[MockPromptOpsAPI]:
    """The mock on the real clock, for code that builds its client on the real clock (the
    signature's timestamp must agree)."""
    with MockPromptOpsAPI(clock=SYSTEM_CLOCK) as api:
        yield api


def test_run_health_checks_reads_the_environment_given_and_the_prompt(
    real_time_mock: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_wrong_key_of_the_process")
    report = asyncio.run(run_health_checks(KEYED, "customer-service"))
    assert report.tool == "health-check"
    assert [f.status for f in report.findings] == ["ok"] * 4
    assert report.findings[1].detail == "customer-service v5"


def test_command_line_mock_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m snippets.index.health_check --mock` needs no key and no network."""
    clean_environment(monkeypatch)
    assert health_check.main(["--mock"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "PromptOps health check: https://api.promptops.com (simulated API: --mock healthy)",
        "ok    Authenticated health  key and signature accepted; the API is healthy (2026.11.0)",
        "ok    Prompt retrieval      hello-world v3 (the first of 3 listed)",
        "ok    Caching               the second fetch came from the cache (hit rate 50%)",
        "ok    Rendering             1 variable(s) set: 'Hello, health-check!' (20 characters)",
        "4 ok, 0 warnings, 0 failures, 0 skipped",
    ]


def test_command_line_prompt_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_environment(monkeypatch)
    assert health_check.main(["--mock", "--prompt", "customer-service", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["checks"][1]["detail"] == "customer-service v5"


@pytest.mark.parametrize(
    ("scenario", "exit_code", "statuses"),
    [
        ("healthy", 0, ["ok", "ok", "ok", "ok"]),
        ("wrong-key", 2, ["failure", "skipped", "skipped", "skipped"]),
        ("server-error", 2, ["failure", "skipped", "skipped", "skipped"]),
        ("rate-limited", 2, ["failure", "skipped", "skipped", "skipped"]),
        ("proxy-403", 2, ["failure", "skipped", "skipped", "skipped"]),
    ],
)
def test_command_line_mock_scenarios_and_exit_codes(
    scenario: str,
    exit_code: int,
    statuses: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean_environment(monkeypatch)
    assert health_check.main(["--mock", scenario, "--json"]) == exit_code
    report = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in report["checks"]] == statuses
    assert report["exit_code"] == exit_code
    assert MOCK_API_KEY not in json.dumps(report)


def test_command_line_without_mock_uses_the_environment(
    real_time_mock: MockPromptOpsAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean_environment(monkeypatch)
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_wrong_key_0123456789")
    assert health_check.main([]) == 2
    output = capsys.readouterr().out
    assert output.splitlines()[0] == "PromptOps health check: https://api.promptops.com"
    assert "AUTHENTICATION_ERROR" in output and "po_wrong_key_0123456789" not in output


def test_a_key_given_replaces_only_the_key(
    mock_api: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's wrong-key example keeps the reader's base URL (and proxy): it reaches their
    API, not the default one."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "http://127.0.0.1:9")
    report = asyncio.run(run_health_checks({"PROMPTOPS_BASE_URL": mock_api.base_url}, api_key="x"))
    assert report.base_url == mock_api.base_url
    assert lines(report)[0][:2] == ("auth", "failure")
    assert mock_api.requests[0].headers["Authorization"] == "Bearer x"
