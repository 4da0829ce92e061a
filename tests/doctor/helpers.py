"""Running the doctor in tests: on a fake clock's event loop, against the mock API, with a TLS
server on 127.0.0.1 (in a thread of its own) standing in for the API's host, and, where a test
needs one, an HTTP proxy on 127.0.0.1 that answers `CONNECT` and tunnels to that server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class ConnectProxy:
    """An HTTP proxy on 127.0.0.1: it reads a `CONNECT` request, answers `answer` (or hangs up
    if None) and, when that is a 200, tunnels to `target`."""

    host: str
    port: int
    requests: list[str] = field(default_factory=list)
    """The head of each request it was sent, as sent."""

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port


@contextmanager
def connect_proxy(
    target: tuple[str, int], answer: str | None = "HTTP/1.1 200 Connection established"
) -> Iterator[ConnectProxy]:
    """A `ConnectProxy` to `target` while the block runs, on an event loop of its own in a
    thread (so the doctor's loop, on fake time, watches none of its sockets)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="connect-proxy", daemon=True)
    thread.start()
    tunnels: set[asyncio.Task[Any]] = set()
    proxy: ConnectProxy

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tunnels.add(asyncio.current_task())  # type: ignore[arg-type]  # always in a task
        try:
            proxy.requests.append((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
            if answer is None:
                return
            writer.write(f"{answer}\r\n\r\n".encode())
            await writer.drain()
            if answer.split(" ")[1:2] != ["200"]:
                return
            up_reader, up_writer = await asyncio.open_connection(*target)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def start() -> asyncio.Server:
        return await asyncio.start_server(handle, "127.0.0.1", 0)

    async def stop(server: asyncio.Server) -> None:
        server.close()
        for task in tunnels:
            task.cancel()
        await asyncio.gather(*tunnels, return_exceptions=True)
        await server.wait_closed()

    try:
        server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        proxy = ConnectProxy("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            yield proxy
        finally:
            asyncio.run_coroutine_threadsafe(stop(server), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
