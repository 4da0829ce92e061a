"""Per-attempt timeouts within the deadline, what a timeout says, server-given waits, and
failures that retrying cannot fix. Fake time throughout: nothing here really waits."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpcore
import httpx
import pytest

from snippets.client import (
    NetworkError,
    PromptOpsClient,
    RequestTimeoutError,
    ServerError,
    read_settings,
)
from snippets.client._client import DEFAULT_LIMITS, JITTER
from snippets.client.clock import FakeClock
from snippets.client.errors import is_permanent, is_retryable
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.proxy import local_proxy

from ..local_server import serve


def run(
    api: MockPromptOpsAPI, call: Callable[[PromptOpsClient], Awaitable[Any]], **settings: Any
) -> Any:
    clock = api.clock
    assert isinstance(clock, FakeClock)

    async def main() -> Any:
        async with PromptOpsClient(clock=clock, **settings) as client:
            return await call(client)

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        return runner.run(main())


def test_each_attempt_has_its_share_of_the_deadline_by_default() -> None:
    client = PromptOpsClient("po_x", timeout=30, max_retries=2)
    assert client.attempt_timeout == 10
    assert PromptOpsClient("po_x", timeout=30, max_retries=0).attempt_timeout == 30
    assert PromptOpsClient("po_x", timeout=30, attempt_timeout=25).attempt_timeout == 25


def test_a_connection_that_never_opens_says_it_was_connecting(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.connect_timeout(times=99)
    with pytest.raises(RequestTimeoutError) as caught:
        run(mock_api, lambda c: c.health_check())
    assert caught.value.message == (
        "GET /v1/client/health: no answer within the 30 s deadline (3 attempts; the last timed "
        "out connecting)"
    )
    assert len(mock_api.requests) == 3


def test_a_trickling_answer_says_it_was_reading_the_answer(mock_api: MockPromptOpsAPI) -> None:
    mock_api.trickle(times=1, interval=20.0)
    health = run(mock_api, lambda c: c.health_check())  # the retry gets a whole answer
    assert health.status == "healthy"
    mock_api.trickle(times=99, interval=20.0)
    with pytest.raises(RequestTimeoutError) as caught:
        run(mock_api, lambda c: c.health_check(), max_retries=0, timeout=5)
    assert caught.value.message == (
        "GET /v1/client/health: no answer within the 5 s deadline (1 attempt; it timed out "
        "reading the answer)"
    )


def test_a_503_with_retry_after_is_waited_out(mock_api: MockPromptOpsAPI) -> None:
    """RFC 9110: Retry-After on a 503 says when to come back."""
    mock_api.server_error(times=1, status=503, retry_after=4)
    assert run(mock_api, lambda c: c.health_check()).status == "healthy"
    (wait,) = mock_api.clock.sleeps  # type: ignore[attr-defined]
    assert 4 <= wait <= 4 * (1 + JITTER)


def test_a_503_asking_for_longer_than_the_deadline_is_raised_at_once(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.server_error(times=1, status=503, retry_after=120)
    with pytest.raises(ServerError) as caught:
        run(mock_api, lambda c: c.health_check())
    assert caught.value.retry_after == 120
    assert len(mock_api.requests) == 1


def test_clients_told_the_same_wait_come_back_at_different_times(
    mock_api: MockPromptOpsAPI,
) -> None:
    """Jitter on the server's wait too: eight workers told `Retry-After: 2` do not all retry
    at the same instant."""
    clock = mock_api.clock
    assert isinstance(clock, FakeClock)
    mock_api.rate_limit(times=8, retry_after=2)

    async def main() -> None:
        async with PromptOpsClient(clock=clock) as client:
            await asyncio.gather(*(client.health_check() for _ in range(8)))

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        runner.run(main())
    assert len(clock.sleeps) == 8
    assert all(2 <= wait <= 2 * (1 + JITTER) for wait in clock.sleeps)
    assert len(set(clock.sleeps)) > 1


def test_the_pool_has_httpx_s_default_limits_not_none() -> None:
    assert (DEFAULT_LIMITS.max_connections, DEFAULT_LIMITS.max_keepalive_connections) == (100, 20)
    assert PromptOpsClient("po_x")._limits is DEFAULT_LIMITS


def _certificate_error() -> BaseException:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    wrapped = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    wrapped.__cause__ = error
    return wrapped


def _dns_error(errno: int, text: str) -> BaseException:
    wrapped = httpx.ConnectError(text)
    wrapped.__cause__ = socket.gaierror(errno, text)
    return wrapped


def _proxy_refused(status_line: str) -> BaseException:
    """What httpx raises when the proxy answers CONNECT with something other than 200."""
    wrapped = httpx.ProxyError(status_line)
    wrapped.__cause__ = httpcore.ProxyError(status_line)
    return wrapped


def _tls_to_plain_http() -> BaseException:
    """TLS spoken to a port that answers in plain HTTP: an https:// URL for a plain proxy."""
    text = "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"
    error = ssl.SSLError(1, text)
    error.reason = "WRONG_VERSION_NUMBER"
    wrapped = httpx.ConnectError(text)
    wrapped.__cause__ = error
    return wrapped


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (_certificate_error(), True),
        (_dns_error(socket.EAI_NONAME, "Name or service not known"), True),
        (_dns_error(socket.EAI_AGAIN, "Temporary failure in name resolution"), False),
        (httpx.ConnectError("[Errno 111] Connection refused"), False),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), False),
        (RuntimeError("Event loop is closed"), True),
        (TypeError("a bug, not the network"), True),
        (_proxy_refused("407 Proxy Authentication Required"), True),
        (_proxy_refused("403 Forbidden"), True),
        (_proxy_refused("502 Bad Gateway"), False),
        (_tls_to_plain_http(), True),
    ],
    ids=[
        "certificate",
        "no such name",
        "dns busy",
        "refused",
        "disconnected",
        "loop",
        "bug",
        "proxy wants credentials",
        "proxy forbids",
        "proxy's upstream failed",
        "tls to plain http",
    ],
)
def test_what_retrying_cannot_fix_is_permanent(error: BaseException, permanent: bool) -> None:
    assert is_permanent(error) is permanent


@pytest.mark.parametrize(
    ("failure", "attempts"),
    [
        (_certificate_error, 1),
        (lambda: _dns_error(socket.EAI_NONAME, "Name or service not known"), 1),
        (lambda: httpx.ConnectError("[Errno 111] Connection refused"), 3),
        (lambda: _proxy_refused("407 Proxy Authentication Required"), 1),
        (_tls_to_plain_http, 1),
    ],
    ids=["certificate", "no such name", "refused", "proxy wants credentials", "tls to plain"],
)
def test_a_permanent_network_error_is_not_retried(
    failure: Callable[[], BaseException], attempts: int
) -> None:
    sent: list[httpx.Request] = []

    def fail(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise failure()

    async def main() -> None:
        transport = httpx.MockTransport(fail)
        async with PromptOpsClient("po_x", transport=transport, clock=FakeClock()) as client:
            await client.health_check()

    with pytest.raises(NetworkError) as caught:
        asyncio.run(main())
    assert len(sent) == attempts
    assert is_retryable(caught.value) is (attempts > 1)


def test_a_proxy_that_wants_credentials_is_reported_once_not_retried() -> None:
    """A real proxy on 127.0.0.1 answering CONNECT with 407: the client says so, after one
    CONNECT (the proxy will answer the same until the credentials are in the proxy URL)."""

    async def main() -> list[str]:
        async with local_proxy(login="alice:s3cret") as proxy:
            settings = read_settings({"PROMPTOPS_API_KEY": "po_x", "HTTPS_PROXY": proxy.url})
            async with PromptOpsClient(settings=settings) as client:
                with pytest.raises(NetworkError) as caught:
                    await client.health_check()
        assert str(caught.value) == (
            "NETWORK_ERROR: Could not reach https://api.promptops.com: 407 Proxy Authentication "
            "Required"
        )
        assert caught.value.permanent
        return proxy.requests

    requests = asyncio.run(main())
    assert [head.split("\r\n")[0] for head in requests] == [
        "CONNECT api.promptops.com:443 HTTP/1.1"
    ]


def test_an_https_url_for_a_plain_proxy_fails_the_handshake_once() -> None:
    """A plain proxy answers the TLS hello in plain HTTP, as a real one does (400): the
    handshake fails with WRONG_VERSION_NUMBER, once."""

    async def main() -> list[str]:
        async with local_proxy() as proxy:
            https_url = proxy.url.replace("http://", "https://")
            settings = read_settings({"PROMPTOPS_API_KEY": "po_x", "HTTPS_PROXY": https_url})
            async with PromptOpsClient(settings=settings) as client:
                with pytest.raises(NetworkError) as caught:
                    await client.health_check()
        assert caught.value.message == (
            "Could not reach https://api.promptops.com: [SSL: WRONG_VERSION_NUMBER] wrong "
            "version number"
        )
        assert caught.value.permanent
        return proxy.answers

    assert asyncio.run(main()) == ["400 Bad Request"]  # one hello: not retried


@pytest.mark.real_time  # a server on 127.0.0.1, stopped in real time
def test_a_client_used_after_its_event_loop_closed_says_so_and_is_not_retried() -> None:
    """The symptom behind `Event loop is closed`: one client shared by two `asyncio.run`, its
    kept-alive connection belonging to the first, closed loop (a real socket: the served mock)."""
    api = MockPromptOpsAPI()
    with serve(MockASGIApp(api)) as url:
        client = PromptOpsClient(api.api_key, base_url=url)
        asyncio.run(client.health_check())
        with pytest.raises(NetworkError) as caught:
            asyncio.run(client.health_check())
    assert caught.value.message == (
        f"Could not reach {url}: Event loop is closed: this client was used from another event "
        "loop than the one it connected on (one client per asyncio.run, or one loop for the "
        "program)"
    )
    assert caught.value.permanent
    assert len(api.requests) == 2  # one for each asyncio.run: the second was not retried
