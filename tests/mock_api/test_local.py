"""The mock API over real connections on 127.0.0.1 (snippets/mock_api/local.py): kept-alive
connections, answers that overlap, a load balancer's idle timeout, and faults that never answer
or refuse. Real sockets; the waits are tenths of a second to a second, on a `FakeClock` loop
(which waits for real while a socket is watched). No verdict rests on how fast the machine is:
what overlapped is counted, and each deadline is one that a busy machine cannot miss or that
no machine can meet. Tests that wait that long carry `real_time`: they run in `nox -s hostile`.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from snippets.client import (
    NetworkError,
    PromptNotFoundError,
    PromptOpsClient,
    RequestTimeoutError,
)
from snippets.client.clock import FakeClock
from snippets.mock_api.local import (
    MAX_HEAD_BYTES,
    LocalAPIServer,
    local_api_server,
    local_api_server_thread,
)


def run[T](main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with asyncio.Runner(loop_factory=FakeClock().event_loop) as runner:
        return runner.run(main())


def client(server: LocalAPIServer, **settings: Any) -> PromptOpsClient:
    return PromptOpsClient(server.api_key, base_url=server.url, **settings)


def test_one_kept_alive_connection_serves_every_call_with_the_mock_s_answers() -> None:
    async def main() -> tuple[list[Any], int]:
        async with local_api_server() as server, client(server) as c:
            results = [
                (await c.health_check()).status,
                (await c.render_prompt("hello-world", {"name": "Ada"})).content,
                await c.list_prompts(),
            ]
            with pytest.raises(PromptNotFoundError):
                await c.get_prompt("hello-wrold")
            return results, server.opened

    results, opened = run(main)
    assert results == [
        "healthy",
        "Hello, Ada!",
        ["hello-world", "welcome-message", "customer-service"],
    ]
    assert opened == 1


@pytest.mark.real_time  # tenths of a second, several times
def test_answers_on_different_connections_overlap() -> None:
    """Five calls at once, 0.2 s each: five connections, and the server answering all five at
    once (it waits the latency asynchronously), not one after the other."""

    async def main() -> tuple[int, int]:
        async with local_api_server(latency=0.2) as server, client(server) as c:
            await asyncio.gather(*(c.health_check() for _ in range(5)))
            return server.opened, server.busiest

    assert run(main) == (5, 5)


@pytest.mark.real_time  # tenths of a second, several times
def test_more_calls_than_connections_wait_for_one_and_the_timeout_says_so() -> None:
    """The performance page's proof: one connection, ten calls, 50 ms each, a 0.25 s deadline:
    the tenth call cannot have the connection before 0.45 s, however fast the machine."""

    async def main(limits: httpx.Limits, deadline: float) -> tuple[list[Any], int]:
        async with (
            local_api_server(latency=0.05) as server,
            client(server, timeout=deadline, max_retries=0, limits=limits) as c,
        ):
            calls = [c.list_prompts() for _ in range(10)]
            return list(await asyncio.gather(*calls, return_exceptions=True)), server.opened

    (*_, last), _ = run(lambda: main(httpx.Limits(max_connections=1), 0.25))
    assert isinstance(last, RequestTimeoutError)
    assert last.message == (
        "GET /v1/client/prompts: no answer within the 0.25 s deadline (1 attempt; it timed "
        "out waiting for a free connection (all 1 of the client's connections were in use))"
    )
    # With a connection for each, no call waits for one: ten are opened, and all answered.
    # (A deadline no busy machine misses: how fast ten answers come is not what is proved.)
    results, opened = run(lambda: main(httpx.Limits(max_connections=10), 5))
    assert opened == 10
    assert not [r for r in results if isinstance(r, Exception)]


@pytest.mark.real_time  # tenths of a second, several times
def test_a_connection_idle_past_the_balancer_s_timeout_is_closed_unanswered() -> None:
    async def main(expiry: float | None) -> tuple[list[str], int, int]:
        seen = []
        limits = httpx.Limits(keepalive_expiry=expiry)
        async with (
            local_api_server(idle_timeout=0.2) as server,
            httpx.AsyncClient(base_url=server.url, limits=limits) as http,
        ):
            for _ in range(2):
                try:
                    seen.append(str((await http.get("/v1/health")).status_code))
                except httpx.RemoteProtocolError as exc:
                    seen.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.3)
            return seen, server.opened, server.dropped

    assert run(lambda: main(None)) == (
        ["200", "RemoteProtocolError: Server disconnected without sending a response."],
        1,
        1,
    )
    # The client closes idle connections first: a new one for the second request.
    assert run(lambda: main(0.1)) == (["200", "200"], 2, 0)


@pytest.mark.real_time  # tenths of a second, several times
def test_the_client_retries_a_dropped_connection_on_a_new_one() -> None:
    async def main(retries: int) -> str:
        async with (
            local_api_server(idle_timeout=0.1) as server,
            client(server, max_retries=retries) as c,
        ):
            await c.health_check()
            await asyncio.sleep(0.2)
            try:
                return (await c.health_check()).status
            except NetworkError as exc:
                assert not exc.permanent
                return exc.message.replace(server.url, "URL")

    assert run(lambda: main(0)) == (
        "Could not reach URL: Server disconnected without sending a response."
    )
    assert run(lambda: main(2)) == "healthy"


@pytest.mark.real_time  # tenths of a second, several times
def test_a_fault_that_never_answers_keeps_the_connection_silent_until_the_client_leaves() -> None:
    async def main() -> tuple[str, int, int]:
        async with local_api_server() as server:
            server.api.timeout(times=1)
            # The hung attempt takes its whole second; the retry has a second too, which no
            # busy machine needs for one answer on 127.0.0.1.
            async with client(server, timeout=5, attempt_timeout=1, max_retries=1) as c:
                status = (await c.health_check()).status
            return status, server.opened, len(server.api.requests)

    assert run(main) == ("healthy", 2, 2)  # the hung attempt's connection is given up


def test_a_refusing_fault_closes_the_connection() -> None:
    async def main() -> NetworkError:
        async with local_api_server() as server, client(server, max_retries=0) as c:
            server.api.connection_refused(times=99)
            with pytest.raises(NetworkError) as caught:
                await c.health_check()
            return caught.value

    assert "Server disconnected without sending a response" in run(main).message


def test_the_default_mock_s_simulated_waits_do_not_block_the_server() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        async with local_api_server() as server:
            server.api.simulate_latency(5.0)
            started = loop.time()
            async with client(server) as c:
                await c.health_check()
            return loop.time() - started

    assert run(main) < 5.0  # not the simulated 5 s: the server waited none of it


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /v1/client/health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"x" * MAX_HEAD_BYTES + b"\r\n\r\n",
        b"GET http://elsewhere/ HTTP/1.1\r\n\r\n",
        b"NONSENSE\r\n\r\n",
        b"POST /v1/client/health HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    ],
    ids=["chunked", "head too large", "absolute form", "no request line", "body cut short"],
)
def test_what_this_small_server_does_not_read_closes_the_connection(raw: bytes) -> None:
    async def main() -> bytes:
        async with local_api_server() as server:
            port = int(server.url.rsplit(":", 1)[1])
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            if raw.endswith(b"abc"):
                writer.write_eof()
            await writer.drain()
            answer = await reader.read()
            writer.close()
            return answer

    assert run(main) == b""


def test_an_answer_is_http_1_1_kept_alive_with_its_length() -> None:
    async def main() -> bytes:
        async with local_api_server() as server:
            port = int(server.url.rsplit(":", 1)[1])
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            return head

    head = run(main).decode()
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert "Connection: keep-alive\r\n" in head
    body = b'{"success":true,"data":{"status":"healthy"}}'  # httpx's compact JSON
    assert f"Content-Length: {len(body)}\r\n" in head


def test_the_thread_server_outlives_event_loops_and_shows_a_client_shared_between_them() -> None:
    with local_api_server_thread() as server:
        shared = client(server)
        assert asyncio.run(shared.health_check()).status == "healthy"
        with pytest.raises(NetworkError) as caught:
            asyncio.run(shared.health_check())
    assert caught.value.permanent
    assert "Event loop is closed" in caught.value.message


def test_the_server_ends_with_the_block_even_with_connections_left_open() -> None:
    async def main() -> None:
        async with local_api_server() as server:
            port = int(server.url.rsplit(":", 1)[1])
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")  # answered: accepted
            await reader.readuntil(b"\r\n\r\n")
            assert server.open == 1  # and kept alive
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        writer.close()

    run(lambda: asyncio.wait_for(main(), 5))


# The performance page's pool proof, reduced to what ends it: on Python's own event loop
# (`asyncio.run`), the client gives up on an answer the server is still waiting out (its
# `latency`), and another connection is left open, idle, when the server's block ends.
CLOSED_WHILE_ANSWERING = """
import asyncio
import faulthandler

import httpx

from snippets.mock_api.local import local_api_server


async def main() -> None:
    async with local_api_server(latency=5) as api:
        port = int(api.url.rsplit(":", 1)[1])
        _, idle = await asyncio.open_connection("127.0.0.1", port)
        # Connecting may take a while on a busy machine; the answer is given up on at once.
        timeout = httpx.Timeout(5, read=0.05)
        async with httpx.AsyncClient(base_url=api.url, timeout=timeout) as http:
            try:
                await http.get("/v1/health")
            except httpx.ReadTimeout:
                print("gave up")
    print("server tasks left:", len(asyncio.all_tasks()) - 1)
    idle.close()


faulthandler.dump_traceback_later(30, exit=True)  # a close that hangs: where, and out
asyncio.run(main())
print("closed")
"""


@pytest.mark.real_time  # a server on 127.0.0.1, stopped in real time
def test_the_server_closes_mid_answer_without_a_word_on_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """What a reader runs, in a process of its own: under pytest, asyncio's log records would
    go to pytest, not to stderr. The server's connections end with its block, not later: the
    one still waiting out its latency was once cancelled by `asyncio.run` after the block, and
    Python 3.11.7 and 3.12.1 printed the task's `CancelledError` traceback."""
    subprocess.run([sys.executable, "-c", CLOSED_WHILE_ANSWERING], check=False)
    out, err = capfd.readouterr()
    assert (out, err) == ("gave up\nserver tasks left: 0\nclosed\n", "")
