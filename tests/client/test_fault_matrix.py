"""Every fault of the scenario table (`snippets.scenarios`; the rows tests/scenarios.py gives an
error `Outcome`) x every endpoint of the mock's table (`ENDPOINTS`), called with the client's
method for it: the documented exception and code, the
documented number of attempts, and a bounded (fake) time. Nothing hangs."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from snippets.checks import CheckContext, Network, run_checks
from snippets.client import (
    AuthenticationError,
    PromptOpsClient,
)
from snippets.client.clock import FakeClock
from snippets.debugging.network_diagnostics import CHECKS as NETWORK_CHECKS
from snippets.index.health_check import CHECKS as HEALTH_CHECKS
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.mock_api.endpoints import ENDPOINTS
from snippets.offline import simulated_resolver, tls_stand_in
from snippets.scenarios import MOCK_SCENARIOS

from ..contract import client_call
from ..scenarios import FAULTS, OUTCOMES, TIMEOUT

pytestmark = pytest.mark.matrix  # a table of cases: nox -s matrix

NOT_RETRIED = {
    "getPublicHealth": "only probe() calls it: one attempt, and an answer (a 429, a 5xx) is "
    "reported, not raised (tests/client/test_probe.py)",
}
"""The endpoints no retrying client method calls, and why: the fault matrix leaves them out."""
RETRIED = [e.operation_id for e in ENDPOINTS if e.operation_id not in NOT_RETRIED]
SIGNED = [e.operation_id for e in ENDPOINTS if e.authenticated]


def test_not_retried_names_endpoints_of_the_table() -> None:
    assert NOT_RETRIED.keys() <= {e.operation_id for e in ENDPOINTS}


@pytest.mark.parametrize("method", RETRIED)
@pytest.mark.parametrize("name", FAULTS)
def test_fault_gives_documented_error_attempts_and_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock, name: str, method: str
) -> None:
    outcome = OUTCOMES[name]
    assert outcome.error is not None
    MOCK_SCENARIOS[name].api(mock_api)
    start = clock.monotonic()

    async def main() -> None:
        async with asyncio.timeout(5):  # real seconds: a hang fails instead of blocking CI
            async with PromptOpsClient(clock=clock) as client:
                await client_call(method)(client)

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


@pytest.mark.parametrize("method", SIGNED)
def test_a_bad_signature_is_an_authentication_error_not_retried(
    mock_api: MockPromptOpsAPI, clock: FakeClock, method: str
) -> None:
    async def main() -> None:
        hooks = {"request": [_break_signature]}
        async with PromptOpsClient(clock=clock, event_hooks=hooks) as client:
            await client_call(method)(client)

    with pytest.raises(AuthenticationError):
        asyncio.run(main())
    assert len(mock_api.requests) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("name", FAULTS)
def test_health_check_fails_the_first_call_and_skips_what_needs_it(
    mock_api: MockPromptOpsAPI, clock: FakeClock, name: str
) -> None:
    MOCK_SCENARIOS[name].api(mock_api)
    ctx = CheckContext({"PROMPTOPS_API_KEY": MOCK_API_KEY}, clock=clock)
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        report = runner.run(run_checks("health-check", HEALTH_CHECKS, ctx))
    assert [(f.id, f.status) for f in report.findings] == [
        ("auth", "failure"),
        ("prompt", "skipped"),
        ("cache", "skipped"),
        ("render", "skipped"),
    ]
    assert report.exit_code == 2


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
def test_network_diagnostics_fail_http_alone(
    mock_api: MockPromptOpsAPI, clock: FakeClock, name: str
) -> None:
    """DNS (simulated), TCP and TLS (a real local TLS server) pass; the public health GET
    fails, and the API paths, which need it, are skipped."""
    MOCK_SCENARIOS[name].api(mock_api)
    with tls_stand_in("api.promptops.com") as tls:
        network = Network(simulated_resolver, (tls.host, tls.port), tls.client_context)
        ctx = CheckContext({}, clock=clock, network=network)
        with asyncio.Runner(loop_factory=clock.event_loop) as runner:
            report = runner.run(run_checks("network-diagnostics", NETWORK_CHECKS, ctx))
    assert [f.status for f in report.findings] == ["ok", "ok", "ok", "failure", "skipped"]
    assert report.exit_code == 2
