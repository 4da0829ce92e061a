"""`PromptOpsClient.probe`: a GET without the key, the way every call goes, for the tools that
check the network and the clock."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
from typing import Any

import httpx
import pytest

from snippets.client import (
    NetworkError,
    Probe,
    PromptOpsClient,
    RequestTimeoutError,
    ServerError,
    read_settings,
)
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI

ENVELOPE = b'{"success": true, "data": {"status": "healthy", "version": "1"}}'


def probe(respond: Any, path: str = "/v1/health", **settings: Any) -> Probe:
    async def main() -> Probe:
        client = PromptOpsClient(
            settings=read_settings({}, require_key=False),
            transport=httpx.MockTransport(respond),
            clock=FakeClock(),
            **settings,
        )
        async with client:
            return await client.probe(path)

    return asyncio.run(main())


def json_answer(status: int = 200, headers: dict[str, str] | None = None) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        assert "Authorization" not in request.headers
        return httpx.Response(
            status,
            content=ENVELOPE,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    return respond


def test_a_probe_reads_status_envelope_and_server_time(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def main() -> Probe:
        settings = read_settings({}, require_key=False)
        async with PromptOpsClient(settings=settings, clock=clock) as client:
            return await client.probe()

    mock_api.simulate_latency(0.035)
    answered = asyncio.run(main())
    assert (answered.status, answered.is_envelope, answered.code) == (200, True, None)
    assert answered.server_time == FakeClock().time()  # the mock's Date: its clock, in seconds
    assert answered.elapsed == pytest.approx(0.035)
    assert answered.content_type == "application/json"


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # a 20-digit year: OverflowError
        "Mon, 01 Jan 10000 00:00:00 GMT",
        "yesterday",
        "",
    ],
)
def test_a_date_this_machine_cannot_represent_is_no_server_time_not_an_exception(
    date: str,
) -> None:
    assert probe(json_answer(headers={"Date": date})).server_time is None


def test_a_page_that_is_not_an_envelope_is_reported_as_such() -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403, content=b"<h1>Blocked</h1>", headers={"Content-Type": "text/html"}
        )

    answered = probe(html)
    assert (answered.status, answered.is_envelope, answered.content_type) == (
        403,
        False,
        "text/html",
    )


def test_a_gzip_bomb_stops_at_the_probe_s_limit_in_little_memory() -> None:
    """A few KB that decode, in two layers, to 64 MiB: refused while decoding, as every answer
    the client reads."""
    inner = gzip.compress(b"0" * (64 * 1024 * 1024), mtime=0)
    bomb = gzip.compress(inner, mtime=0)

    def respond(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip, gzip"}
        return httpx.Response(200, stream=httpx.ByteStream(bomb), headers=headers)

    tracemalloc.start()
    try:
        with pytest.raises(ServerError) as caught:
            probe(respond)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.message == (
        "GET /v1/health answered HTTP 200 with a body of more than 65536 bytes once "
        "decompressed, over the 65536 byte limit (max_response_bytes)"
    )
    assert peak < 5 * 1024 * 1024


def test_a_refused_connection_is_a_network_error(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.connection_refused(times=1)

    async def main() -> Probe:
        async with PromptOpsClient(settings=read_settings({}, require_key=False), clock=clock) as c:
            return await c.probe()

    with pytest.raises(NetworkError):
        asyncio.run(main())


def test_a_silent_server_ends_at_the_client_s_deadline(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.trickle(times=1, interval=5.0)

    async def main() -> Probe:
        settings = read_settings({}, require_key=False)
        async with PromptOpsClient(settings=settings, clock=clock, timeout=3) as c:
            return await c.probe()

    with (
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
        pytest.raises(RequestTimeoutError) as caught,
    ):
        runner.run(main())
    assert caught.value.message == (
        "GET /v1/health: no answer within the 3 s deadline (1 attempt; it timed out reading the "
        "answer)"
    )
