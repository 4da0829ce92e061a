"""Small HTTP servers on 127.0.0.1 that misbehave on purpose, each in a few lines of asyncio.

They stand for a broken network, not for the PromptOps API (the mock is the one model of it).
All of them run on one event loop in a background thread, so the client under test keeps the
main thread to itself and nothing there sleeps. Every server stops by itself: when the client
hangs up, or after `LIFETIME` seconds at most.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

LIFETIME = 20.0  # seconds any one connection may last, whatever it does
TRICKLE = 0.1  # seconds between the bytes of a trickling answer


@dataclass
class Seen:
    """What one server received: the head of every request (method, path, headers)."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


Handler = Callable[["Exchange"], Awaitable[None]]


@dataclass
class Exchange:
    """One connection: the request that came in, and the stream to answer on."""

    method: str
    path: str
    headers: dict[str, str]
    writer: asyncio.StreamWriter
    reader: asyncio.StreamReader

    async def send(self, data: bytes) -> None:
        if self.writer.transport.is_closing():  # the client hung up: drain() would not say so
            raise ConnectionResetError
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self, status: int, body: object, *, headers: str = "") -> None:
        """A whole, well-formed HTTP answer with a JSON (or raw bytes) body."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        await self.send(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(content)}\r\nConnection: close\r\n{headers}\r\n".encode()
            + content
        )

    async def wait_for_hang_up(self) -> None:
        """Say nothing until the client gives up and closes the connection."""
        while await self.reader.read(65536):
            pass


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers


@dataclass
class Running:
    """The servers while they run: their base URLs, and what each one received."""

    urls: dict[str, str]
    seen: dict[str, Seen]


@contextmanager
def hostile_servers(handlers: dict[str, Handler]) -> Iterator[Running]:
    """Serve each handler on its own port of 127.0.0.1 until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hostile-servers", daemon=True)
    thread.start()
    seen = {name: Seen() for name in handlers}

    def serving(name: str, handler: Handler) -> Callable[..., Awaitable[None]]:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with suppress(Exception):
                async with asyncio.timeout(LIFETIME):
                    method, path, headers = await _read_request(reader)
                    seen[name].requests.append((method, path, headers))
                    await handler(Exchange(method, path, headers, writer, reader))
            writer.close()

        return on_connection

    async def start() -> list[asyncio.Server]:
        return [
            await asyncio.start_server(serving(name, handler), "127.0.0.1", 0)
            for name, handler in handlers.items()
        ]

    servers = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=5)
    urls = {
        name: f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        for name, server in zip(handlers, servers, strict=True)
    }
    try:
        yield Running(urls, seen)
    finally:

        async def stop() -> None:
            for server in servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


# -- handlers more than one test file uses ------------------------------------------------


async def silent(x: Exchange) -> None:
    """Accepts the request and never answers."""
    await x.wait_for_hang_up()


async def trickle_headers(x: Exchange) -> None:
    """A status line, then a header every `TRICKLE` seconds, for ever: every read gets a byte
    in time, so only an overall deadline ends the call."""
    await x.send(b"HTTP/1.1 200 OK\r\n")
    while True:
        await x.send(b"X-Slow: 1\r\n")
        await asyncio.sleep(TRICKLE)


async def endless_body(x: Exchange) -> None:
    """A JSON answer whose chunked body never ends, as fast as the client reads it."""
    await x.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    await x.send(b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"[" * 65536 + b"\r\n"
    while True:
        await x.send(chunk)
