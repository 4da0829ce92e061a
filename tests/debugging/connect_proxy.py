"""A tiny HTTP proxy on 127.0.0.1 that answers CONNECT, for the checks that go through one.

It runs on an event loop of its own, in a thread (as `tls_stand_in` does), so a check running on
a fake clock's loop meets it as a real server. It records the head of every request it gets,
answers with `answer`, and, when that is a 200, tunnels the connection to `target` whatever
host the request named: a server on 127.0.0.1 standing in for the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


@dataclass
class ConnectProxy:
    host: str
    port: int
    heads: list[bytes] = field(default_factory=list)
    """The head of each request, up to its blank line, in the order they came."""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_with(self, userinfo: str) -> str:
        return f"http://{userinfo}@{self.host}:{self.port}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@contextmanager
def connect_proxy(
    target: tuple[str, int] | None = None, *, answer: bytes = ESTABLISHED
) -> Iterator[ConnectProxy]:
    """Serve the proxy on a free port of 127.0.0.1 until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="connect-proxy", daemon=True)
    thread.start()
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()  # a TCP check: connected, then closed
            return
        proxy.heads.append(head)
        writer.write(answer)
        await writer.drain()
        if not answer.startswith(b"HTTP/1.1 200") or target is None:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*target)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async def start() -> asyncio.Server:
        return await asyncio.start_server(handle, "127.0.0.1", 0)

    async def stop(server: asyncio.Server) -> None:
        server.close()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    proxy = ConnectProxy("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(stop(server), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
