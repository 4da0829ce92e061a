"""What `--mock SCENARIO` does, for every script, in one place: the scripts know only the client.

A simulation is the mock API in one of the scenarios (`MOCK_SCENARIOS`, in `snippets.scenarios`:
the one table, which docs blocks' `mock="..."` name too), answering where clients point, on fake
time (a `FakeClock` started at the real time: the mock's latency and every wait take no real
time), with its key as the only PromptOps setting: the machine's key, proxy and CA variables
are set aside while it runs, so a simulated report is the same everywhere. Below HTTP, DNS is
simulated and a real TLS server on 127.0.0.1 stands in for the API's host
(`Simulation.network`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Final

import certifi
import httpx

from snippets.checks import Network
from snippets.client import API_KEY_ENV, BASE_URL_ENV, ConfigurationError, read_settings
from snippets.client.clock import FakeClock
from snippets.mock_api.server import MockPromptOpsAPI
from snippets.mock_api.tls import VALID_FROM, VALID_UNTIL, LocalTLSServer, local_tls_server
from snippets.scenarios import HEALTHY, MOCK_SCENARIOS


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


SIMULATED_LATENCY: Final = 0.035
"""Seconds the mock spends on each request under `--mock` (simulated: no real wait), unless the
scenario sets its own: timings print as a real API's would, not as 0 ms."""


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
        # The script signs with the real clock and reads the server's `Date` against it: the
        # mock's clock starts there, and moves only by the simulated waits.
        self.clock = FakeClock(start=time.time())
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
            resolve = self.setup.resolve or simulated_resolver
            self._network = Network(resolve, (stand_in.host, stand_in.port), trusted)
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
            sim.api.simulate_latency(SIMULATED_LATENCY)
            sim.setup.api(sim.api)  # after: a scenario may set its own latency
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
