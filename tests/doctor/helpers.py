"""Running the doctor in tests: on a fake clock's event loop, against the mock API, with a TLS
server on 127.0.0.1 (in a thread of its own) standing in for the API's host. (Where a test
needs a proxy in front of it: `in_a_thread(local_proxy(...))`, tests/local_server.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from snippets.checks import Finding, Network, Report
from snippets.client.clock import FakeClock
from snippets.doctor import run_doctor
from snippets.mock_api import MOCK_API_KEY
from snippets.mock_api.tls import LocalTLSServer
from snippets.offline import simulated_resolver, tls_stand_in

HOST = "api.promptops.com"
SETTINGS: dict[str, str] = {"PROMPTOPS_API_KEY": MOCK_API_KEY}


def diagnose(
    clock: FakeClock,
    environ: Mapping[str, str] | None = None,
    *,
    deadline: float = 30.0,
    stand_in: LocalTLSServer | None = None,
    trusted: bool = True,
    **network: Any,
) -> Report:
    """The doctor's report, run on `clock`. The TCP and TLS checks connect to `stand_in` (a
    new one if None); `network` overrides `resolve`, `connect_to` or `tls_context`."""
    if stand_in is None:
        with tls_stand_in(HOST) as new:
            return diagnose(
                clock, environ, deadline=deadline, stand_in=new, trusted=trusted, **network
            )
    stand_ins = Network(
        network.get("resolve", simulated_resolver),
        network.get("connect_to", (stand_in.host, stand_in.port)),
        network.get("tls_context", stand_in.client_context if trusted else None),
    )
    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(
            run_doctor(
                environ=SETTINGS if environ is None else environ,
                clock=clock,
                network=stand_ins,
                deadline=deadline,
            )
        )


def by_id(report: Report) -> dict[str, Finding]:
    return {finding.id: finding for finding in report.findings}


def statuses(report: Report) -> dict[str, str]:
    """{check id: status} for the checks that did not end ok."""
    return {f.id: f.status for f in report.findings if f.status != "ok"}
