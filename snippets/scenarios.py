"""The one table of mock scenarios: each row is a state of the mock API (a fault switched on, a
key revoked, a clock skewed) or of the network below it, by name.

One name, one scenario, wherever it is used:

- every script's `--mock SCENARIO` runs against the mock in that state (`snippets.offline`);
- a docs block's `mock="SCENARIO"` runs against it (the harness in tests/);
- the tests read the rows by name, and keep there only what they expect of a row (the
  exception a call meets, the request a JSON block shows): tests/scenarios.py;
- the doctor's reference page lists the rows (`snippets.generate`).

A fault lasts (`LASTING` times) unless the row says once: every retry meets it too.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the table names the mock's methods; the mock loads with `--mock` only
    from snippets.checks import Resolver
    from snippets.mock_api.server import MockPromptOpsAPI

HEALTHY: Final = "healthy"
"""The scenario `--mock` alone runs, and a docs block without `mock=`: everything works."""

LASTING: Final = 99
"""Times a fault repeats: every request of a run meets it, retries included."""


async def no_dns(host: str) -> list[str]:
    """A resolver that resolves nothing, as on a machine without working DNS."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


PROXY_403_PAGE: Final = (
    b"<html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1>"
    b"<p>This site is blocked by your organization's web policy.</p></body></html>"
)
"""What a corporate proxy's URL filter answers instead of the API (`--mock proxy-403`)."""

PROXY_502_PAGE: Final = b"<html><h1>502 Bad Gateway</h1></html>"
"""What a proxy answers when it cannot reach the API (`--mock proxy-error-page`)."""

DASHBOARD_KEY: Final = "po_live_7c1e4b9a2d5f"
"""The key the dashboard shows after the old one was revoked (`auth-key-revoked`)."""

NEXT_KEY: Final = "po_live_next_9d3b1f"
"""The key a rotation adds beside the current one (`key-rotation`)."""

PRODUCTION_KEY: Final = "po_live_prod_5e8a1c"
"""The key a deploy should have shipped (`deployed-with-the-staging-key`)."""


def _nothing(api: MockPromptOpsAPI) -> None:
    pass


@dataclass(frozen=True)
class MockScenario:
    """One row: what goes wrong, and how the mock and the simulated network do it."""

    summary: str
    """What goes wrong, for the reference page and `--mock`'s list."""
    api: Callable[[MockPromptOpsAPI], None] = _nothing
    """The mock API's state: a fault switched on, a key revoked, a clock skewed, its latency."""
    resolve: Resolver | None = None
    """DNS, where the network is simulated (`--mock`); None: the simulation's, which resolves
    every name (`snippets.offline.simulated_resolver`)."""
    trusted: bool = True
    """Whether TLS checks trust the CA of the server standing in for the API (`--mock`)."""

    @property
    def breaks_the_network(self) -> bool:
        """Whether what goes wrong is below HTTP (DNS, TLS): only `--mock` simulates that; the
        mock mounted in a process (a test, a docs block) answers HTTP alone."""
        return self.resolve is not None or not self.trusted


def _swap_keys(api: MockPromptOpsAPI, *, revoked: str, accepted: str) -> None:
    api.revoke_key(revoked)
    api.add_key(accepted)


def _outage_then_maintenance(api: MockPromptOpsAPI) -> None:
    """503 for every attempt of one call (3: the client's default, `max_retries=2`, after
    the first), then one 503 that says when to come back."""
    api.server_error(times=3, status=503)
    api.server_error(times=1, status=503, retry_after=2)


MOCK_SCENARIOS: Final[dict[str, MockScenario]] = {
    HEALTHY: MockScenario("everything works"),
    # -- the key ---------------------------------------------------------------------------
    "wrong-key": MockScenario(
        "the API no longer accepts the key: revoked", lambda api: api.revoke_key(api.api_key)
    ),
    # The key in PROMPTOPS_API_KEY revoked; the one the dashboard shows now, accepted.
    "auth-key-revoked": MockScenario(
        "the key was revoked; the dashboard shows a new one, which the API accepts",
        lambda api: _swap_keys(api, revoked=api.api_key, accepted=DASHBOARD_KEY),
    ),
    "key-rotation": MockScenario(
        "mid-rotation: the API accepts the next key as well as the current one",
        lambda api: api.add_key(NEXT_KEY),
    ),
    # Right after a deploy: the process has the staging workspace's key, which this API does
    # not take; the production workspace's key is accepted.
    "deployed-with-the-staging-key": MockScenario(
        "after a deploy: the key is the staging workspace's, which this API does not accept",
        lambda api: _swap_keys(api, revoked=api.api_key, accepted=PRODUCTION_KEY),
    ),
    "clock-skew": MockScenario(
        "this machine's clock is 7 minutes fast", lambda api: api.clock_skew(-420)
    ),
    # -- rate limits ---------------------------------------------------------------------------
    # The key's calls only: the public health endpoint takes no key, so is not counted.
    "rate-limited": MockScenario(
        "the key's rate limit is spent: the API asks to wait 60 s",
        lambda api: api.rate_limit(times=LASTING, retry_after=60, path="/v1/client"),
    ),
    "rate-limited-once": MockScenario(
        "one request is rate limited (HTTP 429, wait 2 s), then the API answers",
        lambda api: api.rate_limit(times=1, retry_after=2),
    ),
    "rate-limited-2s": MockScenario(
        "every request is rate limited: HTTP 429, wait 2 s",
        lambda api: api.rate_limit(times=LASTING, retry_after=2),
    ),
    "rate-limited-in-the-body-only": MockScenario(
        "every request is rate limited: HTTP 429, the wait (3 s) in the body, no Retry-After",
        lambda api: api.rate_limit(times=LASTING, retry_after=3, header=False),
    ),
    "rate-limited-without-retry-after": MockScenario(
        "every request is rate limited: HTTP 429, without saying how long to wait",
        lambda api: api.rate_limit(times=LASTING, retry_after=None),
    ),
    # A quota counted for real: 10 requests a second for the key (a plan's 600 a minute,
    # scaled down so that an example runs in seconds); 429 with Retry-After past it.
    "quota-10-a-second": MockScenario(
        "the key's quota is 10 requests a second: past it, HTTP 429 until one leaves the window",
        lambda api: api.quota(10, per=1.0),
    ),
    "busy-key": MockScenario(
        "other workers share the key: 4 requests in any 3 s, then HTTP 429",
        lambda api: api.quota(4, per=3.0),
    ),
    # Over the client's max_retry_after (60 s): raised at once, not waited for.
    "quota-exhausted": MockScenario(
        "the plan's quota is spent: HTTP 429, wait an hour",
        lambda api: api.rate_limit(times=LASTING, retry_after=3600),
    ),
    # -- the API fails -------------------------------------------------------------------------
    "server-error": MockScenario(
        "the API answers every request with HTTP 503",
        lambda api: api.server_error(times=LASTING, status=503),
    ),
    "server-error-once": MockScenario(
        "the API answers one request with HTTP 503, then recovers",
        lambda api: api.server_error(times=1, status=503),
    ),
    "server-error-500": MockScenario(
        "the API answers every request with HTTP 500",
        lambda api: api.server_error(times=LASTING, status=500),
    ),
    "server-error-502": MockScenario(
        "the API answers every request with HTTP 502",
        lambda api: api.server_error(times=LASTING, status=502),
    ),
    # The api-errors page's proof: a call that meets an outage fails after its retries; the next
    # one meets a 503 with Retry-After: 2, waits it out and succeeds.
    "api-errors-503-then-retry-after": MockScenario(
        "an outage (HTTP 503) for one call's every attempt, then a 503 that says: back in 2 s",
        _outage_then_maintenance,
    ),
    "gateway-timeout": MockScenario(
        "the API's gateway gives up on every request: HTTP 504",
        lambda api: api.gateway_timeout(times=LASTING),
    ),
    # -- slow or silent ------------------------------------------------------------------------
    "slow-api": MockScenario(
        "the API takes 1.2 s to answer each request", lambda api: api.simulate_latency(1.2)
    ),
    "latency-50ms": MockScenario(
        "the API takes 50 ms to answer each request", lambda api: api.simulate_latency(0.050)
    ),
    "trickling": MockScenario(
        "the API sends its answers one byte a second: only the deadline ends a call",
        lambda api: api.trickle(times=LASTING, interval=1.0),
    ),
    "hanging": MockScenario(
        "the API lists the prompts, but never answers a request for one",
        lambda api: api.timeout(times=LASTING, path="/v1/client/prompts/"),
    ),
    "hangs-once": MockScenario(
        "the API leaves the first request for a prompt unanswered, then answers",
        lambda api: api.timeout(times=1, path="/v1/client/prompts/"),
    ),
    # No answer at all: each attempt times out at its share of the deadline.
    "read-timeout": MockScenario(
        "the API takes every request and never answers",
        lambda api: api.timeout(times=LASTING),
    ),
    # -- on the way ----------------------------------------------------------------------------
    "dns-failure": MockScenario("the API's host name does not resolve", resolve=no_dns),
    "tls-failure": MockScenario(
        "a proxy re-signs HTTPS with a CA this machine does not trust", trusted=False
    ),
    "connection-refused": MockScenario(
        "every connection to the API is refused",
        lambda api: api.connection_refused(times=LASTING),
    ),
    "connect-timeout": MockScenario(
        "no connection to the API opens: a firewall drops the packets",
        lambda api: api.connect_timeout(times=LASTING),
    ),
    # Inside a container, localhost is the container: nothing listens on its port 8080. The API
    # answers where PROMPTOPS_BASE_URL points (the host's or the service's name, in real life).
    "localhost-in-a-container": MockScenario(
        "in a container, nothing listens at `http://localhost:8080` (the API is elsewhere)",
        lambda api: api.nothing_listens_at("http://localhost:8080"),
    ),
    # The public health endpoint passes; every path under /v1/client/ gets the proxy's page.
    "proxy-403": MockScenario(
        "a proxy answers the API's paths with its own HTTP 403 page, not the API's envelope",
        lambda api: api.malformed_body(
            times=LASTING,
            status=403,
            body=PROXY_403_PAGE,
            content_type="text/html",
            path="/v1/client",
        ),
    ),
    "proxy-error-page": MockScenario(
        "a proxy answers every request with its own HTTP 502 page, not the API's envelope",
        lambda api: api.malformed_body(
            times=LASTING, status=502, body=PROXY_502_PAGE, content_type="text/html"
        ),
    ),
    # -- answers that are not JSON ---------------------------------------------------------
    "truncated-json": MockScenario(
        "every answer's JSON is cut off midway",
        lambda api: api.malformed_body(times=LASTING),
    ),
    "malformed-json": MockScenario(
        "every answer is JSON-like text that does not parse",
        lambda api: api.malformed_body(times=LASTING, body=b"{success: true, data: }"),
    ),
    "json-as-text-plain": MockScenario(
        "every answer is JSON labelled text/plain",
        lambda api: api.malformed_body(
            times=LASTING, body=b'{"success": true, "data": {}}', content_type="text/plain"
        ),
    ),
    # -- the call, not the API: a reader meets these with any API, the mock's included ---------
    "unknown-prompt": MockScenario(
        "the API works; the mistake is the call's: a prompt id with a typo, `hello-wrold`"
    ),
    "missing-variable": MockScenario(
        "the API works; the mistake is the call's: `welcome-message` rendered without `company`"
    ),
}
