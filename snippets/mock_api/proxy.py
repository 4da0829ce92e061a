"""A real HTTP proxy on 127.0.0.1 that answers CONNECT as a company's proxy does.

It may want a login (407 without it), and tunnels to a server standing in for the API (the TLS
server of `snippets.mock_api.tls`); or it answers what it is told, as a proxy that refuses in
its own words, or hangs up. The client and the network diagnostics go through it for real, so
the pages show what a proxy does to them without one.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

HEAD_LIMIT: Final = 8 * 1024
"""Bytes of a request's head the proxy reads, at most."""


@dataclass
class LocalProxy:
    host: str
    port: int
    answers: list[str] = field(default_factory=list)
    """The status it answered each request with (`407 Proxy Authentication Required`), in
    order; none where it was told what to answer."""
    requests: list[str] = field(default_factory=list)
    """The head of each HTTP request it was sent, as sent, up to its blank line, in order."""

    @property
    def url(self) -> str:
        """Its URL, as `HTTPS_PROXY` takes it."""
        return f"http://{self.host}:{self.port}"

    def url_with(self, login: str) -> str:
        """Its URL with `login` (`user:password`) in it, as a proxy that wants one needs."""
        return f"http://{login}@{self.host}:{self.port}"


@asynccontextmanager
async def local_proxy(
    target: tuple[str, int] | None = None,
    *,
    login: str | None = None,
    answer: bytes | None = None,
) -> AsyncIterator[LocalProxy]:
    """Serve an HTTP proxy on a free port of 127.0.0.1 until the block ends.

    It answers CONNECT `407 Proxy Authentication Required` unless the request carries `login`
    (`user:password`, as Basic credentials) or `login` is None; then `200 Connection
    established`, and it tunnels the connection to `target`, whatever host the request named
    (`502 Bad Gateway` without a target). What is no HTTP request, such as a TLS hello (the
    proxy's URL given as https://), gets `400 Bad Request`, as from a real proxy; a request
    other than CONNECT gets `501 Not Implemented`.

    With `answer`, it sends those bytes instead, whatever the request, and closes the
    connection: a proxy that refuses in its own words, or says no HTTP at all (`b""` hangs up
    without a word).
    """
    wanted = None if login is None else "Basic " + base64.b64encode(login.encode()).decode()
    tasks: set[asyncio.Task[None]] = set()
    streams: set[asyncio.StreamWriter] = set()  # every open connection, both ends of a tunnel

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            tasks.add(task)
        streams.add(writer)
        try:
            head = await _read_head(reader)
            if head == b"":
                return  # connected and closed: a TCP check
            if head is not None:
                end = head.find(b"\r\n\r\n")
                proxy.requests.append((head if end < 0 else head[: end + 4]).decode("latin-1"))
            if answer is not None:
                writer.write(answer)
                await writer.drain()
                return
            status = _answer(head, wanted, target)
            proxy.answers.append(status)
            extra = 'Proxy-Authenticate: Basic realm="proxy"\r\n' if status[:3] == "407" else ""
            length = "" if status[:3] == "200" else "Content-Length: 0\r\n"
            writer.write(f"HTTP/1.1 {status}\r\n{extra}{length}\r\n".encode())
            await writer.drain()
            if status[:3] == "200" and target is not None:
                upstream_reader, upstream_writer = await asyncio.open_connection(*target)
                streams.add(upstream_writer)
                await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except OSError:
            pass  # the client or the target went away
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy = LocalProxy("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        yield proxy
    finally:
        server.close()
        for stream in streams:  # ends every tunnel: each side reads the end of its stream
            stream.transport.abort()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request's head, up to its blank line; None if what came is no HTTP request, and
    empty if nothing came."""
    head = await reader.read(HEAD_LIMIT)
    if not head:
        return b""
    method = head.split(b" ", 1)[0]
    if not (method.isalpha() and method.isupper()):
        return None  # a TLS hello starts with byte 0x16
    while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
        more = await reader.read(HEAD_LIMIT - len(head))
        if not more:
            return None
        head += more
    return head


def _answer(head: bytes | None, wanted: str | None, target: tuple[str, int] | None) -> str:
    if head is None:
        return "400 Bad Request"
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("CONNECT "):
        return "501 Not Implemented"
    headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    given = {name.strip().lower(): value.strip() for name, value in headers.items()}
    if wanted is not None and given.get("proxy-authorization") != wanted:
        return "407 Proxy Authentication Required"
    if target is None:
        return "502 Bad Gateway"
    return "200 Connection established"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
