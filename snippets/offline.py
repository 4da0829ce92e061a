"""What `--mock SCENARIO` does, for every script, in one place: the scripts know only the client.

A simulation is the mock API in one of `MOCK_SCENARIOS`, answering where clients point, on fake
time (`OfflineClock`: the mock's latency and every wait take no real time), with its key as the
only PromptOps setting: the machine's key, proxy and CA variables are set aside while it runs,
so a simulated report is the same everywhere. Below HTTP, DNS is simulated and a real TLS server
on 127.0.0.1 stands in for the API's host (`Simulation.network`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import certifi
import httpx

from snippets.checks import Network, Resolver
from snippets.client import API_KEY_ENV, BASE_URL_ENV, ConfigurationError, read_settings
from snippets.client.clock import FakeClock
from snippets.mock_api.server import MockPromptOpsAPI
from snippets.mock_api.tls import VALID_FROM, VALID_UNTIL, LocalTLSServer, local_tls_server

HEALTHY: Final = "healthy"
"""The scenario `--mock` alone runs: everything works."""

LASTING: Final = 99
"""Times a fault repeats: every request of a run meets it, retries included."""


async def simulated_resolver(host: str) -> list[str]:
    """DNS without a query leaving the machine: an IP address is itself, a name under `.invalid`
    does not exist (RFC 6761), and any other name is a documentation address (RFC 5737)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if host.endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ["203.0.113.10"]


async def no_dns(host: str) -> list[str]:
    """A resolver that resolves nothing, as on a machine without working DNS."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


PROXY_403_PAGE: Final = (
    b"<html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1>"
    b"<p>This site is blocked by your organization's web policy.</p></body></html>"
)
"""What a corporate proxy's URL filter answers instead of the API (`--mock proxy-403`)."""


def _nothing(api: MockPromptOpsAPI) -> None:
    pass


@dataclass(frozen=True)
class MockScenario:
    """What goes wrong in one `--mock SCENARIO` run."""

    summary: str
    api: Callable[[MockPromptOpsAPI], None] = _nothing
    """The mock API's state: a fault switched on, a key revoked, a clock skewed."""
    latency: float = 0.035
    """Seconds the mock spends on each request (simulated: no real wait)."""
    resolve: Resolver = simulated_resolver
    trusted: bool = True
    """Whether TLS checks trust the CA of the server standing in for the API."""


MOCK_SCENARIOS: Final[dict[str, MockScenario]] = {
    HEALTHY: MockScenario("everything works"),
    "wrong-key": MockScenario(
        "the API no longer accepts the key: revoked", lambda api: api.revoke_key(api.api_key)
    ),
    "clock-skew": MockScenario(
        "this machine's clock is 7 minutes fast", lambda api: api.clock_skew(-420)
    ),
    # The key's calls only: the public health endpoint takes no key, so is not counted.
    "rate-limited": MockScenario(
        "the key's rate limit is spent: the API asks to wait 60 s",
        lambda api: api.rate_limit(times=LASTING, retry_after=60, path="/v1/client"),
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
    "dns-failure": MockScenario("the API's host name does not resolve", resolve=no_dns),
    "tls-failure": MockScenario(
        "a proxy re-signs HTTPS with a CA this machine does not trust", trusted=False
    ),
    "slow-api": MockScenario("the API takes 1.2 s to answer each request", latency=1.2),
    "server-errors": MockScenario(
        "the API answers every request with HTTP 503",
        lambda api: api.server_error(times=LASTING, status=503),
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
    "busy-key": MockScenario(
        "other workers share the key: 4 requests in any 3 s, then HTTP 429",
        lambda api: api.quota(4, per=3.0),
    ),
}


class OfflineClock(FakeClock):
    """Fake time for a simulation: the mock spends its latency on it and the script's event
    loop runs on it, so waits take no time and durations are exactly the simulated ones. Its
    wall-clock time is the real one (plus any simulated wait), as the script's own: the script
    signs its requests and reads the server's `Date` with the real clock."""

    def time(self) -> float:
        return time.time() + self.monotonic()


# Every variable the client reads, even only to note it: set aside during a simulation.
CLIENT_VARIABLES: Final = (
    API_KEY_ENV,
    BASE_URL_ENV,
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


def _client_variable(name: str) -> bool:
    return name in CLIENT_VARIABLES or name.lower().endswith("_proxy")


class Simulation:
    """The mock API in one scenario, while `simulation()` runs: its settings (`environ`), its
    clock, the network below HTTP, and an asyncio runner on that clock."""

    def __init__(self, scenario: str, base_url: str | None, stack: ExitStack) -> None:
        self.scenario = scenario
        self.setup = MOCK_SCENARIOS[scenario]
        self.clock = OfflineClock()
        self.api = MockPromptOpsAPI(clock=self.clock)
        self.environ = {API_KEY_ENV: self.api.api_key}
        """The settings a check tool reads: the mock's key, and the base URL if one is set."""
        if base_url:
            self.environ[BASE_URL_ENV] = base_url
        self.runner = stack.enter_context(asyncio.Runner(loop_factory=self.clock.event_loop))
        self._stack = stack
        self._network: Network | None = None

    @property
    def network(self) -> Network:
        """Simulated DNS, and a real TLS server on 127.0.0.1 with a certificate for the API's
        host, started at first use (on a thread of its own, so the script's loop stays on fake
        time)."""
        if self._network is None:
            host = httpx.URL(self.api.base_url).host
            stand_in = self._stack.enter_context(tls_stand_in(host))
            trusted = (
                stand_in.client_context
                if self.setup.trusted
                else ssl.create_default_context(cafile=certifi.where())  # the client's default
            )
            self._network = Network(self.setup.resolve, (stand_in.host, stand_in.port), trusted)
        return self._network


@contextmanager
def simulation(scenario: str = HEALTHY) -> Iterator[Simulation]:
    """Run a block against the mock API in `scenario`, where clients point: at
    `PROMPTOPS_BASE_URL` if it is a usable URL, else at the real API's. `os.environ` holds
    only the mock's settings meanwhile (the key, the base URL), for scripts that read it."""
    base_url = os.environ.get(BASE_URL_ENV)
    try:
        read_settings({BASE_URL_ENV: base_url} if base_url else {}, require_key=False)
    except ConfigurationError:
        base_url = None  # the mock answers at the default URL instead
    saved = {name: value for name, value in os.environ.items() if _client_variable(name)}
    with ExitStack() as stack:
        for name in saved:
            del os.environ[name]
        if base_url:
            os.environ[BASE_URL_ENV] = base_url
        try:
            sim = Simulation(scenario, base_url, stack)
            os.environ[API_KEY_ENV] = sim.api.api_key
            stack.enter_context(sim.api)
            sim.setup.api(sim.api)
            sim.api.simulate_latency(sim.setup.latency)
            yield sim
        finally:
            stack.close()
            for name in [name for name in os.environ if _client_variable(name)]:
                del os.environ[name]
            os.environ.update(saved)


@contextmanager
def tls_stand_in(
    hostname: str, *, valid_from: datetime = VALID_FROM, valid_until: datetime = VALID_UNTIL
) -> Iterator[LocalTLSServer]:
    """`local_tls_server` on an event loop of its own, in a thread: the script's loop then
    watches no server socket, so its waits stay fake (see `FakeClock.event_loop`)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="tls-stand-in", daemon=True)
    thread.start()
    server = local_tls_server(hostname, valid_from=valid_from, valid_until=valid_until)
    try:
        started = asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(10)
        try:
            yield started
        finally:
            asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
