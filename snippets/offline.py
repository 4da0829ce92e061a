"""What `--mock` does for each script, in one place: the scripts themselves know only the client.

Every script runs against `MockPromptOpsAPI`, with its key in `PROMPTOPS_API_KEY`, on fake time
(`FakeClock.event_loop`). Some need more: simulated latency (so the durations they print are
the ones the pages show) or, for the network diagnostics, simulated DNS and a real TLS server
on 127.0.0.1. The doctor's `--mock SCENARIO` reproduces each failure it detects: the scenarios
are `MOCK_SCENARIOS`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import certifi
import httpx

from snippets.cli import HEALTHY, ScriptMain
from snippets.client import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from snippets.client.clock import Clock, FakeClock
from snippets.debugging.network_diagnostics import Resolver, run_network_diagnostics
from snippets.doctor import Network
from snippets.mock_api.server import MockPromptOpsAPI
from snippets.mock_api.tls import VALID_FROM, VALID_UNTIL, LocalTLSServer, local_tls_server


@contextmanager
def offline(api: MockPromptOpsAPI | None = None) -> Iterator[MockPromptOpsAPI]:
    """Answer the API from the mock, with its key in `PROMPTOPS_API_KEY`, for a block."""
    api = api or MockPromptOpsAPI()
    saved = os.environ.get(API_KEY_ENV)
    os.environ[API_KEY_ENV] = api.api_key
    try:
        with api:
            yield api
    finally:
        if saved is None:
            del os.environ[API_KEY_ENV]
        else:
            os.environ[API_KEY_ENV] = saved


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


async def network_diagnostics_offline() -> int:
    """The whole diagnostic offline, for the URL the client would use: the mock API answers
    there, DNS is simulated, and a real TLS server on 127.0.0.1 has a certificate for its host."""
    host = httpx.URL(os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).host
    async with local_tls_server(host) as tls:
        return await run_network_diagnostics(
            resolve=simulated_resolver,
            connect_to=(tls.host, tls.port),
            tls_context=tls.client_context,
        )


@dataclass(frozen=True)
class Offline:
    """How one script runs with `--mock`, beyond the mock API itself."""

    latency: float = 0.0  # seconds the mock spends on each request (simulated: no real wait)
    main: ScriptMain | None = None  # runs instead of the script's own main


OFFLINE: dict[str, Offline] = {
    "network-diagnostics": Offline(0.035, main=network_diagnostics_offline),
    "profiler": Offline(0.050),
    "debug-client": Offline(0.050),
}


class OfflineClock(FakeClock):
    """Fake time for a `--mock` run: the mock spends its latency on it and the script's event
    loop runs on it, so waits take no time and durations are exactly the simulated ones. Its
    wall-clock time is the real one (plus any simulated wait), as the script's own: the script
    signs its requests and reads the server's `Date` with the real clock."""

    def time(self) -> float:
        return time.time() + self.monotonic()


def run_offline(name: str, main: ScriptMain) -> int:
    """Run a script's `main` against the mock API, on an `OfflineClock`."""
    setup = OFFLINE.get(name, Offline())
    clock = OfflineClock()
    with (
        offline(MockPromptOpsAPI(clock=clock)) as api,
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
    ):
        api.simulate_latency(setup.latency)
        return runner.run((setup.main or main)())


# -- the doctor's scenarios ---------------------------------------------------------------

LASTING = 99
"""Times a fault repeats: every request of a run meets it, retries included."""


async def no_dns(host: str) -> list[str]:
    """A resolver that resolves nothing, as on a machine without working DNS."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _nothing(api: MockPromptOpsAPI) -> None:
    pass


@dataclass(frozen=True)
class MockScenario:
    """What goes wrong in one `--mock SCENARIO` run of the doctor."""

    summary: str
    api: Callable[[MockPromptOpsAPI], None] = _nothing
    """The mock API's state: a fault switched on, a key revoked, a clock skewed."""
    latency: float = 0.035
    """Seconds the mock spends on each request (simulated: no real wait)."""
    resolve: Resolver = simulated_resolver
    trusted: bool = True
    """Whether the TLS check trusts the CA of the server standing in for the API."""


MOCK_SCENARIOS: dict[str, MockScenario] = {
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
}

DoctorMain = Callable[[Mapping[str, str], Clock, Network], Coroutine[Any, Any, int]]


def run_doctor_offline(scenario: str, doctor: DoctorMain) -> int:
    """Run the doctor against the mock API in `scenario`, on an `OfflineClock`.

    Its settings are the mock's key and `PROMPTOPS_BASE_URL` (nothing else of the machine's
    environment: the report is the same everywhere); DNS is simulated, and a real TLS server
    on 127.0.0.1 stands in for the API's host, for the TCP and TLS checks.
    """
    setup = MOCK_SCENARIOS[scenario]
    clock = OfflineClock()
    api = MockPromptOpsAPI(clock=clock)
    environ = {API_KEY_ENV: api.api_key}  # the key the reader has, even where it is revoked
    if os.environ.get(BASE_URL_ENV):
        environ[BASE_URL_ENV] = os.environ[BASE_URL_ENV]
    host = httpx.URL(api.base_url).host
    with (
        offline(api),
        tls_stand_in(host) as stand_in,
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
    ):
        setup.api(api)
        api.simulate_latency(setup.latency)
        trusted = (
            stand_in.client_context
            if setup.trusted
            else ssl.create_default_context(cafile=certifi.where())  # the client's default CAs
        )
        network = Network(setup.resolve, (stand_in.host, stand_in.port), trusted)
        return runner.run(doctor(environ, clock, network))


@contextmanager
def tls_stand_in(
    hostname: str, *, valid_from: datetime = VALID_FROM, valid_until: datetime = VALID_UNTIL
) -> Iterator[LocalTLSServer]:
    """`local_tls_server` on an event loop of its own, in a thread: the doctor's loop then
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
