"""Every fault the mock can inject x every public client method: the documented exception and
code, the documented number of attempts, and a bounded (fake) time. Nothing hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from snippets.client import (
    AuthenticationError,
    NetworkError,
    PromptOpsClient,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from snippets.client._client import INITIAL_BACKOFF, MAX_BACKOFF
from snippets.client.clock import FakeClock
from snippets.index.health_check import run_health_checks
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.offline import network_diagnostics_offline

TIMEOUT = 30.0  # the client's default deadline
RETRIES = 2
ALL_ATTEMPTS = 1 + RETRIES
# Faults last the whole test (99 times), so every retry meets them too.
# Backoff before retry n is at most min(8, 0.5 * 2**n): 0.5 s + 1 s for two retries.
BACKOFF_TOTAL = sum(min(MAX_BACKOFF, INITIAL_BACKOFF * 2**n) for n in range(RETRIES))


@dataclass(frozen=True)
class Fault:
    inject: Callable[[MockPromptOpsAPI], None]
    error: type[PromptOpsError]
    attempts: int
    max_seconds: float  # the most (fake) time the call may take
    tamper_signature: bool = False


FAULTS: dict[str, Fault] = {
    "connection refused": Fault(
        lambda api: api.connection_refused(times=99), NetworkError, ALL_ATTEMPTS, BACKOFF_TOTAL
    ),
    "connect timeout": Fault(
        lambda api: api.connect_timeout(times=99), RequestTimeoutError, 1, TIMEOUT
    ),
    "read timeout": Fault(lambda api: api.timeout(times=99), RequestTimeoutError, 1, TIMEOUT),
    "429 with Retry-After": Fault(
        lambda api: api.rate_limit(times=99, retry_after=2), RateLimitError, ALL_ATTEMPTS, 4
    ),
    "429 without Retry-After": Fault(
        lambda api: api.rate_limit(times=99, retry_after=None),
        RateLimitError,
        ALL_ATTEMPTS,
        BACKOFF_TOTAL,
    ),
    "429 retry_after over the cap": Fault(
        lambda api: api.rate_limit(times=99, retry_after=3600), RateLimitError, 1, 0
    ),
    "500": Fault(
        lambda api: api.server_error(times=99, status=500), ServerError, ALL_ATTEMPTS, BACKOFF_TOTAL
    ),
    "502": Fault(
        lambda api: api.server_error(times=99, status=502), ServerError, ALL_ATTEMPTS, BACKOFF_TOTAL
    ),
    "503": Fault(
        lambda api: api.server_error(times=99, status=503), ServerError, ALL_ATTEMPTS, BACKOFF_TOTAL
    ),
    "504": Fault(
        lambda api: api.gateway_timeout(times=99), RequestTimeoutError, ALL_ATTEMPTS, BACKOFF_TOTAL
    ),
    "malformed JSON": Fault(
        lambda api: api.malformed_body(times=99, body=b"{success: true, data: }"), ServerError, 1, 0
    ),
    "HTML error page from a proxy": Fault(
        lambda api: api.malformed_body(
            times=99,
            status=502,
            body=b"<html><h1>502 Bad Gateway</h1></html>",
            content_type="text/html",
        ),
        ServerError,
        ALL_ATTEMPTS,
        BACKOFF_TOTAL,
    ),
    "truncated body": Fault(lambda api: api.malformed_body(times=99), ServerError, 1, 0),
    "wrong content type": Fault(
        lambda api: api.malformed_body(
            times=99, body=b'{"success": true, "data": {}}', content_type="text/plain"
        ),
        ServerError,
        1,
        0,
    ),
    "bad key": Fault(lambda api: api.revoke_key(api.api_key), AuthenticationError, 1, 0),
    "bad signature": Fault(lambda api: None, AuthenticationError, 1, 0, tamper_signature=True),
    "clock skew": Fault(lambda api: api.clock_skew(-301), AuthenticationError, 1, 0),
}

METHODS: dict[str, Callable[[PromptOpsClient], Awaitable[Any]]] = {
    "health_check": lambda c: c.health_check(),
    "list_prompts": lambda c: c.list_prompts(),
    "get_prompt": lambda c: c.get_prompt("hello-world"),
    "render_prompt": lambda c: c.render_prompt("hello-world", {"name": "Ada"}),
    "batch_render": lambda c: c.batch_render([("hello-world", {"name": "Ada"})]),
}


async def _break_signature(request: httpx.Request) -> None:
    """An httpx request hook runs after signing: this one corrupts the signature."""
    request.headers["X-PromptOps-Signature"] = "v1=" + "0" * 64


def _client(fault: Fault) -> PromptOpsClient:
    hooks = {"request": [_break_signature]} if fault.tamper_signature else None
    return PromptOpsClient(timeout=TIMEOUT, max_retries=RETRIES, event_hooks=hooks)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fault_name", FAULTS)
def test_fault_gives_documented_error_attempts_and_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock, fault_name: str, method: str
) -> None:
    fault = FAULTS[fault_name]
    fault.inject(mock_api)
    start = clock.monotonic()

    async def main() -> None:
        async with asyncio.timeout(5):  # real seconds: a hang fails instead of blocking CI
            async with _client(fault) as client:
                await METHODS[method](client)

    with pytest.raises(fault.error) as caught:
        asyncio.run(main())
    error = caught.value
    assert type(error) is fault.error and error.code == fault.error.code
    assert len(mock_api.requests) == fault.attempts
    elapsed = clock.monotonic() - start
    assert elapsed <= fault.max_seconds
    assert elapsed <= TIMEOUT
    assert MOCK_API_KEY not in f"{error} {error!r}"


HEALTH_CHECKS = ["API connectivity", "Prompt retrieval", "Caching", "Variable substitution"]


@pytest.mark.parametrize("fault_name", FAULTS)
def test_health_check_reports_fail_and_goes_on(
    mock_api: MockPromptOpsAPI, fault_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fault = FAULTS[fault_name]
    fault.inject(mock_api)
    code = asyncio.run(run_health_checks(lambda: _client(fault)))
    lines = capsys.readouterr().out.splitlines()
    verdicts = {line[6:28].strip(): line[:4] for line in lines if line[:4] in ("PASS", "FAIL")}
    assert code == 1
    assert verdicts == {"Initialization": "PASS"} | dict.fromkeys(HEALTH_CHECKS, "FAIL")
    assert lines[-1] == "4 check(s) failed"


TRANSPORT_FAULTS = [
    "connection refused",
    "connect timeout",
    "read timeout",
    "500",
    "502",
    "503",
    "HTML error page from a proxy",
]


@pytest.mark.parametrize("fault_name", TRANSPORT_FAULTS)
def test_network_diagnostics_report_fail_and_go_on(
    mock_api: MockPromptOpsAPI, fault_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    FAULTS[fault_name].inject(mock_api)

    async def main() -> int:
        async with asyncio.timeout(5):  # real seconds: a hang fails instead of blocking CI
            return await network_diagnostics_offline()  # simulated DNS, a real local TLS server

    assert asyncio.run(main()) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["PASS", "FAIL", "FAIL", "FAIL", "PASS"]
    assert lines[-1] == "3 of 5 checks failed"
