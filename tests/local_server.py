"""Ports of 127.0.0.1 for a `with` block: the mock API served by uvicorn in a background
thread, or a port that refuses every connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
