"""The one table of mock API scenarios: what the mock does, and what one client call meets.

Three checks read it, so adding a scenario is one row:

- docs blocks name a row in their settings, ```python {mock="rate-limited"}; a ```json block
  shows the body the mock answers to the row's `request` (a title "HTTP NNN ..." is checked too);
- the contract test validates every request and response of every row against the OpenAPI
  document (tests/mock_api/test_contract.py);
- the fault matrix calls every client method in every row with an `outcome`: the documented
  exception, number of requests and (fake) time (tests/client/test_fault_matrix.py).

Faults last (99 times) unless the row says once: every retry meets them too.

A row named like one of the doctor's `--mock` scenarios (`snippets.offline.MOCK_SCENARIOS`)
takes the mock's state from there: `mock="wrong-key"` on a page and `promptops-doctor --mock
wrong-key` are one scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from snippets.client import (
    INITIAL_BACKOFF,
    JITTER,
    MAX_BACKOFF,
    AuthenticationError,
    NetworkError,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.offline import LASTING, MOCK_SCENARIOS

# With the client's defaults: a 30 s deadline, 2 retries after the first attempt.
TIMEOUT = 30.0
ALL_ATTEMPTS = 3
# The backoff before retry n is at most min(8, 0.5 * 2**n): 0.5 s, then 1 s.
BACKOFF = [min(MAX_BACKOFF, INITIAL_BACKOFF * 2**n) for n in range(ALL_ATTEMPTS - 1)]


def asked(seconds: float) -> float:
    """The longest wait for a `Retry-After` of `seconds`: never shorter, up to 25 % longer."""
    return seconds * (1 + JITTER)


@dataclass(frozen=True)
class Outcome:
    """What any one client call meets in a scenario, with the client's default settings."""

    error: type[PromptOpsError] | None  # None: the call succeeds
    attempts: int  # requests the call sends
    max_seconds: float  # the most (fake) time it may take


@dataclass(frozen=True)
class ShownRequest:
    """The request whose answer a ```json block shows: signed with `api_key`."""

    method: str = "GET"
    path: str = "/v1/client/prompts/hello-world"
    body: Any = None
    api_key: str = field(default=MOCK_API_KEY, repr=False)  # keys stay out of reprs


@dataclass(frozen=True)
class Scenario:
    setup: Callable[[MockPromptOpsAPI], None]
    outcome: Outcome | None  # None: it depends on the call (a missing prompt, a new key)
    request: ShownRequest = field(default_factory=ShownRequest)
    # False: the mock answers as a broken proxy would, outside the API contract on purpose.
    within_contract: bool = True
    # True: docs blocks meet the mock served over real HTTP on 127.0.0.1 (uvicorn), as copied
    # blocks always do, not mounted on respx: for what happens only on a real connection. Such
    # a block must print nothing of the base URL, which names a port.
    served: bool = False


def _nothing(api: MockPromptOpsAPI) -> None:
    pass


SUCCEEDS = Outcome(None, 1, 0)

DASHBOARD_KEY = "po_live_7c1e4b9a2d5f"
"""The key the dashboard shows after the old one was revoked (docs/authentication.md)."""


def _key_replaced(api: MockPromptOpsAPI) -> None:
    api.revoke_key(api.api_key)
    api.add_key(DASHBOARD_KEY)


PRODUCTION_KEY = "po_live_prod_5e8a1c"
"""The key a deploy should have shipped (common-issues.md, after a deploy)."""


def _swap_keys(api: MockPromptOpsAPI, *, revoked: str, accepted: str) -> None:
    api.revoke_key(revoked)
    api.add_key(accepted)


def _outage_then_maintenance(api: MockPromptOpsAPI) -> None:
    """503 for every attempt of one call, then one 503 that says when to come back."""
    api.server_error(times=ALL_ATTEMPTS, status=503)
    api.server_error(times=1, status=503, retry_after=2)


def at_once(error: type[PromptOpsError]) -> Outcome:
    """Raised after one request, without waiting: not worth retrying, or no time to."""
    return Outcome(error, 1, 0)


SCENARIOS: dict[str, Scenario] = {
    "ok": Scenario(_nothing, SUCCEEDS),
    "latency-50ms": Scenario(lambda api: api.simulate_latency(0.050), Outcome(None, 1, 0.050)),
    # The client's key is not (or no longer) accepted: revoked, or never valid.
    "wrong-key": Scenario(MOCK_SCENARIOS["wrong-key"].api, at_once(AuthenticationError)),
    "clock-skew": Scenario(MOCK_SCENARIOS["clock-skew"].api, at_once(AuthenticationError)),
    "rate-limited-once": Scenario(
        lambda api: api.rate_limit(times=1, retry_after=2), Outcome(None, 2, asked(2))
    ),
    # retry_after 60 s does not fit the 30 s deadline: raised at once.
    "rate-limited": Scenario(MOCK_SCENARIOS["rate-limited"].api, at_once(RateLimitError)),
    "rate-limited-2s": Scenario(
        lambda api: api.rate_limit(times=LASTING, retry_after=2),
        Outcome(RateLimitError, ALL_ATTEMPTS, 2 * asked(2)),
    ),
    "rate-limited-in-the-body-only": Scenario(
        lambda api: api.rate_limit(times=LASTING, retry_after=3, header=False),
        Outcome(RateLimitError, ALL_ATTEMPTS, 2 * asked(3)),
    ),
    "rate-limited-without-retry-after": Scenario(
        lambda api: api.rate_limit(times=LASTING, retry_after=None),
        Outcome(RateLimitError, ALL_ATTEMPTS, sum(BACKOFF)),
    ),
    # A quota counted for real: 10 requests a second for the key (a plan's 600 a minute,
    # scaled down so that an example runs in seconds); 429 with Retry-After past it.
    "quota-10-a-second": Scenario(lambda api: api.quota(10, per=1.0), None),
    # A plan's quota spent: retry_after is over max_retry_after (60 s), raised at once.
    "quota-exhausted": Scenario(
        lambda api: api.rate_limit(times=LASTING, retry_after=3600),
        at_once(RateLimitError),
    ),
    "server-error-once": Scenario(
        lambda api: api.server_error(times=1, status=503), Outcome(None, 2, BACKOFF[0])
    ),
    "server-error": Scenario(
        lambda api: api.server_error(times=LASTING, status=503),
        Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
    ),
    # The api-errors page's proof: a call that meets an outage fails after its retries; the next
    # one meets a 503 with Retry-After: 2, waits it out and succeeds.
    "api-errors-503-then-retry-after": Scenario(_outage_then_maintenance, None),
    "server-error-500": Scenario(
        lambda api: api.server_error(times=LASTING, status=500),
        Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
    ),
    "server-error-502": Scenario(
        lambda api: api.server_error(times=LASTING, status=502),
        Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
    ),
    "gateway-timeout": Scenario(
        lambda api: api.gateway_timeout(times=LASTING),
        Outcome(RequestTimeoutError, ALL_ATTEMPTS, sum(BACKOFF)),
    ),
    "connection-refused": Scenario(
        lambda api: api.connection_refused(times=LASTING),
        Outcome(NetworkError, ALL_ATTEMPTS, sum(BACKOFF)),
    ),
    # No answer at all: each attempt times out at its share of the deadline (10 s of 30), and
    # is retried while time is left; the deadline ends the call.
    "connect-timeout": Scenario(
        lambda api: api.connect_timeout(times=LASTING),
        Outcome(RequestTimeoutError, ALL_ATTEMPTS, TIMEOUT),
    ),
    "read-timeout": Scenario(
        lambda api: api.timeout(times=LASTING), Outcome(RequestTimeoutError, ALL_ATTEMPTS, TIMEOUT)
    ),
    "truncated-json": Scenario(
        lambda api: api.malformed_body(times=LASTING), at_once(ServerError), within_contract=False
    ),
    "malformed-json": Scenario(
        lambda api: api.malformed_body(times=LASTING, body=b"{success: true, data: }"),
        at_once(ServerError),
        within_contract=False,
    ),
    "json-as-text-plain": Scenario(
        lambda api: api.malformed_body(
            times=LASTING, body=b'{"success": true, "data": {}}', content_type="text/plain"
        ),
        at_once(ServerError),
        within_contract=False,
    ),
    "proxy-error-page": Scenario(
        lambda api: api.malformed_body(
            times=LASTING,
            status=502,
            body=b"<html><h1>502 Bad Gateway</h1></html>",
            content_type="text/html",
        ),
        Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
        within_contract=False,
    ),
    # A typo in the prompt id: a reader meets it with any API, the mock's included.
    "unknown-prompt": Scenario(_nothing, None, ShownRequest(path="/v1/client/prompts/hello-wrold")),
    "missing-variable": Scenario(
        _nothing,
        None,
        ShownRequest(
            "POST", "/v1/client/prompts/welcome-message/render", {"variables": {"name": "Ada"}}
        ),
    ),
    "key-rotation": Scenario(lambda api: api.add_key("po_live_next_9d3b1f"), None),
    # The key in PROMPTOPS_API_KEY revoked; the one the dashboard shows now, accepted.
    "auth-key-revoked": Scenario(_key_replaced, at_once(AuthenticationError)),
    # One client used from two event loops: only a real connection shows what happens.
    "faq-served": Scenario(_nothing, SUCCEEDS, served=True),
    # Inside a container, localhost is the container: nothing listens on its port 8080. The API
    # answers where PROMPTOPS_BASE_URL points (the host's or the service's name, in real life).
    "localhost-in-a-container": Scenario(
        lambda api: api.nothing_listens_at("http://localhost:8080"), None
    ),
    # Right after a deploy: the process has the staging workspace's key, which this API does
    # not take; the production workspace's key is accepted.
    "deployed-with-the-staging-key": Scenario(
        lambda api: _swap_keys(api, revoked=api.api_key, accepted=PRODUCTION_KEY), None
    ),
}

FAULTS = {name: s for name, s in SCENARIOS.items() if s.outcome and s.outcome.error}
