"""The mock API over real HTTP/1.1 connections on 127.0.0.1, in a few lines of asyncio.

For what only real connections show: a connection pool that runs out, a kept-alive connection
that a load balancer dropped while it was idle, a client used from a second event loop. The
answers are `MockPromptOpsAPI.handle`'s, so the API behaves as everywhere else; what this adds
is the connections:

- every connection is kept alive between requests, as the API's own is;
- `latency` is waited asynchronously, so requests on different connections overlap;
- `idle_timeout` plays a load balancer that forgets a connection idle for longer than that,
  without telling the client: the next request on it is read, then the connection is closed
  with no answer (the client sees `Server disconnected without sending a response`);
- a fault that never answers (`api.timeout()`) keeps the connection silent until the client
  gives up, and one that refuses (`api.connection_refused()`) closes it at once.

```python
async with local_api_server(latency=0.05) as server:
    async with PromptOpsClient(server.api_key, base_url=server.url) as client:
        ...
```

`local_api_server` serves on the running event loop; `local_api_server_thread` on an event
loop of its own, in a thread, for code that runs several event loops (`asyncio.run` twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from snippets.client.clock import SystemClock

from .server import MAX_BODY_BYTES, MockPromptOpsAPI

MAX_HEAD_BYTES: Final = 64 * 1024
"""The largest request head (request line and headers) read; a larger one closes the
connection."""


class _AnswersWithoutBlocking(SystemClock):
    """The real clock, except that the mock's simulated waits (a fault that stalls, its own
    latency) do not block the server's event loop: `latency=` is waited asynchronously."""

    def block(self, seconds: float) -> None:
        pass


@dataclass
class LocalAPIServer:
    """A running server: where it answers, the mock behind it, and its connections."""

    url: str
    api: MockPromptOpsAPI = field(repr=False)
    opened: int = 0
    """Connections accepted so far."""
    open: int = 0
    """Connections open now."""
    dropped: int = 0
    """Connections closed without an answer because they had been idle too long."""
    answering: int = 0
    """Requests read and not yet answered (their latency being waited), now."""
    busiest: int = 0
    """The most requests it was answering at once so far: five calls at once on five
    connections make 5; answers that waited for each other would make 1."""

    @property
    def api_key(self) -> str:
        """The key the mock accepts (never printed: see `MockPromptOpsAPI`)."""
        return self.api.api_key


@contextlib.asynccontextmanager
async def local_api_server(
    api: MockPromptOpsAPI | None = None,
    *,
    latency: float = 0.0,
    idle_timeout: float | None = None,
) -> AsyncIterator[LocalAPIServer]:
    """Serve `api` on a free port of 127.0.0.1 until the block ends. By default, a fresh mock
    whose simulated waits do not block (pass one made with `clock=` a `FakeClock`, or none:
    a mock on the real clock would block the server while it simulates a wait).

    Args:
        latency: Seconds each answer takes, waited without blocking other connections.
        idle_timeout: Seconds a kept-alive connection may stay idle; the next request on a
            connection idle for longer is closed unanswered, as behind a load balancer that
            dropped it. None: connections never expire.
    """
    api = api or MockPromptOpsAPI(clock=_AnswersWithoutBlocking())
    loop = asyncio.get_running_loop()
    state = LocalAPIServer("", api)
    serving: set[asyncio.Task[Any]] = set()  # a task per connection, until it closes
    closing = False

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        serving.add(task)
        state.opened += 1
        state.open += 1
        idle_since = loop.time()
        try:
            while not closing:
                request = await _read_request(reader, state.url)
                if request is None:  # the client closed the connection, or sent garbage
                    return
                if idle_timeout is not None and loop.time() - idle_since > idle_timeout:
                    state.dropped += 1
                    return  # forgotten while idle: closed with no answer
                state.answering += 1
                state.busiest = max(state.busiest, state.answering)
                try:
                    if latency:
                        await asyncio.sleep(latency)
                    try:
                        response = api.handle(request)
                    except httpx.TimeoutException:  # never answers: silent until the client leaves
                        with contextlib.suppress(ConnectionError):
                            while await reader.read(65536):
                                pass
                        return
                    except httpx.TransportError:  # refused or reset: close at once
                        return
                    writer.write(await _response_bytes(response))
                    await writer.drain()
                finally:
                    state.answering -= 1
                idle_since = loop.time()
        except ConnectionError:
            return
        except asyncio.CancelledError:
            if not closing:
                raise
            # The server's own close (below) ends a connection mid-answer or idle. The task
            # returns rather than ends cancelled: Python 3.11.7 and 3.12.1 print a cancelled
            # connection task's CancelledError, traceback and all (CPython gh-113538).
            return
        finally:
            state.open -= 1
            serving.discard(task)
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        # No new connection; those still open (a client left them open, or left before its
        # answer, which is still waiting out `latency`) end now, not when the event loop
        # ends: `asyncio.run` would cancel them then.
        closing = True
        server.close()
        while serving:
            for task in serving:
                task.cancel()
            await asyncio.wait(set(serving))
        await server.wait_closed()


@contextlib.contextmanager
def local_api_server_thread(
    api: MockPromptOpsAPI | None = None,
    *,
    latency: float = 0.0,
    idle_timeout: float | None = None,
) -> Iterator[LocalAPIServer]:
    """`local_api_server` on an event loop of its own, in a thread: it outlives the event
    loops of the code under test (two `asyncio.run` calls, say)."""
    loop = asyncio.SelectorEventLoop()  # its own, on real time, whatever the policy makes
    thread = threading.Thread(target=loop.run_forever, name="local-api-server", daemon=True)
    thread.start()
    server = local_api_server(api, latency=latency, idle_timeout=idle_timeout)
    try:
        started = asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(10)
        try:
            yield started
        finally:
            stop = server.__aexit__(None, None, None)
            asyncio.run_coroutine_threadsafe(stop, loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _read_request(reader: asyncio.StreamReader, base_url: str) -> httpx.Request | None:
    """The next request on the connection; None once the client has closed it, or for one
    this small server does not read (no length, chunked, over the size limits)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    if len(head) > MAX_HEAD_BYTES:
        return None
    request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[1].startswith("/"):
        return None
    method, target, _ = parts
    headers = [(n.strip(), v.strip()) for n, s, v in (x.partition(":") for x in lines) if s]
    fields = {name.lower(): value for name, value in headers}
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return None
    length = fields.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return None
    try:
        body = await reader.readexactly(int(length))
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return httpx.Request(
        method,
        f"{base_url}{target}",
        headers=headers,
        content=body,
    )


async def _response_bytes(response: httpx.Response) -> bytes:
    """`response` as HTTP/1.1 bytes, kept alive: the whole body, with its length."""
    body = await response.aread()
    head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    for name, value in response.headers.multi_items():
        if name.lower() not in ("content-length", "transfer-encoding", "connection"):
            head.append(f"{name}: {value}")
    head += [f"Content-Length: {len(body)}", "Connection: keep-alive", "", ""]
    return "\r\n".join(head).encode("latin-1") + body
