"""Every fault of the scenario table (tests/scenarios.py) x every public client method: the
documented exception and code, the documented number of attempts, and a bounded (fake) time.
Nothing hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from snippets.client import (
    AuthenticationError,
    PromptOpsClient,
)
from snippets.client.clock import FakeClock
from snippets.index.health_check import run_health_checks
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.offline import network_diagnostics_offline

from ..scenarios import FAULTS, TIMEOUT

METHODS: dict[str, Callable[[PromptOpsClient], Awaitable[Any]]] = {
    "health_check": lambda c: c.health_check(),
    "list_prompts": lambda c: c.list_prompts(),
    "get_prompt": lambda c: c.get_prompt("hello-world"),
    "render_prompt": lambda c: c.render_prompt("hello-world", {"name": "Ada"}),
    "batch_render": lambda c: c.batch_render([("hello-world", {"name": "Ada"})]),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", FAULTS)
def test_fault_gives_documented_error_attempts_and_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock, name: str, method: str
) -> None:
    outcome = FAULTS[name].outcome
    assert outcome is not None and outcome.error is not None
    FAULTS[name].setup(mock_api)
    start = clock.monotonic()

    async def main() -> None:
        async with asyncio.timeout(5):  # real seconds: a hang fails instead of blocking CI
            async with PromptOpsClient(clock=clock) as client:
                await METHODS[method](client)

    with pytest.raises(outcome.error) as caught:
        asyncio.run(main())
    error = caught.value
    assert type(error) is outcome.error and error.code == outcome.error.code
    assert len(mock_api.requests) == outcome.attempts
    elapsed = clock.monotonic() - start
    assert elapsed <= outcome.max_seconds
    assert elapsed <= TIMEOUT
    assert MOCK_API_KEY not in f"{error} {error!r}"


async def _break_signature(request: httpx.Request) -> None:
    """An httpx request hook runs after signing: this one corrupts the signature."""
    request.headers["X-PromptOps-Signature"] = "v1=" + "0" * 64


@pytest.mark.parametrize("method", METHODS)
def test_a_bad_signature_is_an_authentication_error_not_retried(
    mock_api: MockPromptOpsAPI, clock: FakeClock, method: str
) -> None:
    async def main() -> None:
        hooks = {"request": [_break_signature]}
        async with PromptOpsClient(clock=clock, event_hooks=hooks) as client:
            await METHODS[method](client)

    with pytest.raises(AuthenticationError):
        asyncio.run(main())
    assert len(mock_api.requests) == 1
    assert clock.sleeps == []


HEALTH_CHECKS = ["API connectivity", "Prompt retrieval", "Caching", "Variable substitution"]


@pytest.mark.parametrize("name", FAULTS)
def test_health_check_reports_fail_and_goes_on(
    mock_api: MockPromptOpsAPI, clock: FakeClock, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    FAULTS[name].setup(mock_api)
    code = asyncio.run(run_health_checks(lambda: PromptOpsClient(clock=clock)))
    lines = capsys.readouterr().out.splitlines()
    verdicts = {line[6:28].strip(): line[:4] for line in lines if line[:4] in ("PASS", "FAIL")}
    assert code == 1
    assert verdicts == {"Initialization": "PASS"} | dict.fromkeys(HEALTH_CHECKS, "FAIL")
    assert lines[-1] == "4 check(s) failed"


# The faults that keep the unauthenticated GETs of the network diagnostics from a PromptOps
# answer: no connection, no answer, a 5xx, a proxy's page.
DIAGNOSED_FAULTS = [
    "connection-refused",
    "connect-timeout",
    "read-timeout",
    "server-error",
    "server-error-500",
    "server-error-502",
    "gateway-timeout",
    "proxy-error-page",
]


@pytest.mark.parametrize("name", DIAGNOSED_FAULTS)
def test_network_diagnostics_report_fail_and_go_on(
    mock_api: MockPromptOpsAPI, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    FAULTS[name].setup(mock_api)

    async def main() -> int:
        async with asyncio.timeout(5):  # real seconds: a hang fails instead of blocking CI
            return await network_diagnostics_offline()  # simulated DNS, a real local TLS server

    assert asyncio.run(main()) == 1
    lines = capsys.readouterr().out.splitlines()
    # DNS and TCP pass (simulated DNS, the local server); the three GETs fail; TLS passes.
    assert [line.split()[0] for line in lines[:-1]] == ["PASS", "PASS", *["FAIL"] * 3, "PASS"]
    assert lines[-1] == "3 of 6 checks failed"
