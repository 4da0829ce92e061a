"""What `--mock` does for each script, in one place: the scripts themselves know only the client.

Every script runs against `MockPromptOpsAPI`, with its key in `PROMPTOPS_API_KEY`, on fake time
(`FakeClock.event_loop`). Some need more: simulated latency (so the durations they print are
the ones the pages show) or, for the network diagnostics, simulated DNS and a real TLS server
on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from snippets.cli import ScriptMain
from snippets.client import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from snippets.client.clock import FakeClock
from snippets.debugging.network_diagnostics import run_network_diagnostics
from snippets.mock_api.server import MockPromptOpsAPI
from snippets.mock_api.tls import local_tls_server


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
