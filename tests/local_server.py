"""Ports of 127.0.0.1 for a `with` block: the mock API served by uvicorn in a background
thread, a port that refuses every connection, or any of the package's servers (the proxy of
`snippets.mock_api.proxy`, say) on an event loop of its own."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager

import uvicorn

from snippets.mock_api.asgi import MockASGIApp


@contextmanager
def serve(app: MockASGIApp) -> Iterator[str]:
    """Yield the base URL of `app` served over real HTTP on a free port of 127.0.0.1. The port
    is bound here and handed to uvicorn as a socket: one picked free and let go could be taken
    by another process before uvicorn bound it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        server = uvicorn.Server(
            # asgi3 stated, not sniffed: a wrapped __call__ (mutmut's, say) fools the sniffing.
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="on",
                interface="asgi3",
                date_header=False,  # the mock sends its own Date: see snippets/mock_api/asgi.py
            )
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [held]}, daemon=True)
        thread.start()
        started = threading.Event()
        while not server.started and thread.is_alive():
            started.wait(0.005)  # polls uvicorn's start-up flag; no fixed delay
        if not server.started:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}: see its log above")
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=5)


@contextmanager
def refused_port() -> Iterator[int]:
    """A port of 127.0.0.1 that refuses connections until the block ends: bound, never
    listening, so no other process can take it meanwhile. (A port that was merely free a
    moment ago can be, on a busy machine: a check then met a reset, not a refusal.)"""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@contextmanager
def in_a_thread[T](server: AbstractAsyncContextManager[T]) -> Iterator[T]:
    """`async with server` on an event loop of its own, in a thread, for the `with` block
    (`in_a_thread(local_proxy(...))`). Code on a fake clock's loop meets it as a real server
    elsewhere: that loop watches none of its sockets, so its waits stay fake (see
    `FakeClock.event_loop`); code that runs several event loops meets it from each."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="local-server", daemon=True)
    thread.start()
    try:
        entered = asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(10)
        try:
            yield entered
        finally:
            stop = server.__aexit__(None, None, None)
            asyncio.run_coroutine_threadsafe(stop, loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
