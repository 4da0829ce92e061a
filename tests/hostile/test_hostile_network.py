"""The client against servers that misbehave on purpose, over real sockets on 127.0.0.1, in real
time: every client method against every server ends in its documented `PromptOpsError`, within
the deadline, with no secret in any text it raises, logs or prints.

Real time, so in its own session (`nox -s hostile`), not in `nox -s docs`. The cases run at
once on one event loop, in two rounds: those that end in their own error, then those cut at
their deadline: the whole file takes about two seconds.
Waits between retries use a `FakeClock`, so they take no time; the deadline is enforced on the
event loop's real clock, which is what a trickling or silent server tests.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import socket
import ssl
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from snippets.api_errors.circuit_breaker import CircuitBreaker
from snippets.authentication.clock_skew import measure_clock_skew
from snippets.checks import CheckContext, Network, Report, run_checks
from snippets.client import (
    AuthenticationError,
    NetworkError,
    PromptOpsClient,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from snippets.client._client import INITIAL_BACKOFF, JITTER, MAX_RESPONSE_BYTES
from snippets.client.clock import FakeClock
from snippets.client.settings import read_settings
from snippets.debugging.network_diagnostics import CHECKS as NETWORK_CHECKS
from snippets.index.health_check import run_health_checks

from .servers import TRICKLE, Exchange, Handler, Running, hostile_servers

pytestmark = pytest.mark.hostile

KEY = "po_live_hostile_1f5b9c3e7d"
DEADLINE = 1.0  # the client's timeout against the servers that never finish an answer, seconds
# The timeout against the others: they end in their own error long before it, however busy the
# machine (with six CPU-bound processes beside them, the 115 calls at once took up to 9 s: a
# 1 s deadline cut many short).
NO_HURRY = 30.0
# What a deadline may be overrun by: the event loop of a busy machine runs its timers late (by
# up to 0.9 s with six CPU-bound processes beside it). A deadline not kept would last until
# the server gives up: LIFETIME, 20 s.
MARGIN = 2.0
RETRIES = 1  # one retry: its backoff (at most 0.5 s) is waited on a FakeClock, in no real time
FLOOR = INITIAL_BACKOFF * (1 - JITTER)  # the shortest backoff the client may wait
# A smaller size limit than the default for the 125 concurrent cases, so that the huge bodies
# do not starve the rest of the 2 cores; test_peak_memory_... holds the default 10 MiB.
LIMIT = 2 * 2**20

METHODS: dict[str, Callable[[PromptOpsClient], Awaitable[Any]]] = {
    "health_check": lambda c: c.health_check(),
    "list_prompts": lambda c: c.list_prompts(),
    "get_prompt": lambda c: c.get_prompt("hello-world"),
    "render_prompt": lambda c: c.render_prompt("hello-world", {"name": "Ada"}),
    "batch_render": lambda c: c.batch_render([("hello-world", {"name": "Ada"}), ("x", {})]),
}


# -- the servers -------------------------------------------------------------------------


async def trickle_headers(x: Exchange) -> None:
    await x.send(b"HTTP/1.1 200 OK\r\n")
    while True:
        await x.send(b"X-Slow: 1\r\n")
        await asyncio.sleep(TRICKLE)


async def trickle_body(x: Exchange) -> None:
    await x.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n"
    )
    while True:
        await x.send(b" ")
        await asyncio.sleep(TRICKLE)


async def silent(x: Exchange) -> None:
    await x.wait_for_hang_up()


async def huge_body(x: Exchange) -> None:
    """300 MB, its end marked by closing the connection: the client cannot know the size."""
    await x.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n")
    await x.send(b'\r\n{"success": true, "data": "')
    chunk = b"x" * 65536
    for _ in range(300 * 16):
        await x.send(chunk)


async def endless_body(x: Exchange) -> None:
    await x.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    await x.send(b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"[" * 65536 + b"\r\n"
    while True:
        await x.send(chunk)


@functools.cache
def gzip_bomb_body() -> bytes:
    """500 MB of JSON, gzip-compressed to about 0.5 MB: small on the wire, huge once
    decompressed. Made when first sent (a second of CPU and 500 MB of memory), not when the
    module is imported: every session collects this module, most run none of its tests."""
    stream = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16 +: the gzip format
    chunk = b"x" * 2**20
    parts = [stream.compress(b'{"success": true, "data": "')]
    parts += [stream.compress(chunk) for _ in range(500)]
    return b"".join([*parts, stream.flush()])


async def gzip_bomb(x: Exchange) -> None:
    body = gzip_bomb_body()
    await x.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    await x.send(body)


async def huge_declared(x: Exchange) -> None:
    await x.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    await x.send(b"Content-Length: 1000000000000\r\n\r\n")
    await x.wait_for_hang_up()


def answers(status: int, body: object, headers: str = "") -> Handler:
    async def handler(x: Exchange) -> None:
        await x.answer(status, body, headers=headers)

    return handler


def rate_limited(headers: str = "", **body: object) -> Handler:
    error = {"code": "RATE_LIMIT_ERROR", "message": "slow down", **body}
    return answers(429, {"success": False, "error": error}, headers)


async def echo_credentials(x: Exchange) -> None:
    """A gateway that quotes what it rejected."""
    echoed = f"rejected Authorization: {x.headers['authorization']} {x.headers}"
    await x.answer(
        401, {"success": False, "error": {"code": "AUTHENTICATION_ERROR", "message": echoed}}
    )


async def echo_in_500(x: Exchange) -> None:
    body = f"<pre>{x.headers}</pre>".encode()
    await x.send(b"HTTP/1.1 500 X\r\nContent-Type: application/json\r\n")
    await x.send(
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        f"X-Debug: {x.headers['authorization']}\r\n\r\n".encode()
        + body
    )


async def close_mid_body(x: Exchange) -> None:
    await x.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n"
    )
    await x.send(b'{"success": tr')


async def garbage_status(x: Exchange) -> None:
    await x.send(b"HTTP/1.1 abc\x1b[2J\r\n\r\n")


async def endless_headers(x: Exchange) -> None:
    await x.send(b"HTTP/1.1 200 OK\r\n")
    while True:
        await x.send(b"X-Pad: " + b"a" * 1000 + b"\r\n")


async def hang_up(x: Exchange) -> None:
    x.writer.transport.abort()


FORGED = "bad\n2026-01-01T00:00:00Z INFO  promptops: all good\x1b[2J\x1b]0;owned\x07"


@dataclass(frozen=True)
class Behaviour:
    handler: Handler
    error: type[PromptOpsError]
    retried: bool = False  # the server must see 1 + RETRIES requests per call, else 1
    slow: bool = False  # ends at the deadline, not before

    @property
    def attempts(self) -> int:
        return 1 + RETRIES if self.retried else 1

    @property
    def deadline(self) -> float:
        return DEADLINE if self.slow else NO_HURRY


BEHAVIOURS: dict[str, Behaviour] = {
    "trickles headers": Behaviour(trickle_headers, RequestTimeoutError, slow=True),
    "trickles the body": Behaviour(trickle_body, RequestTimeoutError, slow=True),
    "never answers": Behaviour(silent, RequestTimeoutError, slow=True),
    "sends 300 MB": Behaviour(huge_body, ServerError),
    "sends an endless body": Behaviour(endless_body, ServerError),
    "announces 1 TB": Behaviour(huge_declared, ServerError),
    "sends a gzip bomb": Behaviour(gzip_bomb, ServerError),
    "success without data": Behaviour(answers(200, {"success": True}), ServerError),
    "success with a list": Behaviour(answers(200, {"success": True, "data": [1]}), ServerError),
    "success with wrong fields": Behaviour(
        answers(200, {"success": True, "data": {"results": [], "status": 1, "id": None}}),
        ServerError,
    ),
    "deep JSON": Behaviour(answers(200, b"[" * 200_000 + b"]" * 200_000), ServerError),
    "invalid UTF-8": Behaviour(answers(200, b'{"success": true, "data": "\xff"}'), ServerError),
    "Retry-After 0": Behaviour(rate_limited("Retry-After: 0\r\n"), RateLimitError, retried=True),
    "Retry-After -5": Behaviour(rate_limited("Retry-After: -5\r\n"), RateLimitError, retried=True),
    "Retry-After NaN": Behaviour(
        rate_limited("Retry-After: NaN\r\n"), RateLimitError, retried=True
    ),
    "Retry-After in the past": Behaviour(
        rate_limited("Retry-After: Thu, 01 Jan 2015 00:00:00 GMT\r\n"),
        RateLimitError,
        retried=True,
    ),
    "retry_after of 400 digits": Behaviour(
        answers(
            429,
            b'{"success": false, "error": {"code": "RATE_LIMIT_ERROR", '
            b'"message": "m", "retry_after": 1' + b"0" * 400 + b"}}",
        ),
        RateLimitError,
    ),
    "401 that says RATE_LIMIT_ERROR": Behaviour(
        answers(401, {"success": False, "error": {"code": "RATE_LIMIT_ERROR", "message": "m"}}),
        AuthenticationError,
    ),
    "redirects": Behaviour(answers(302, b"", "Location: /elsewhere\r\n"), ServerError),
    "echoes the credentials": Behaviour(echo_credentials, AuthenticationError),
    "echoes them in a 500": Behaviour(echo_in_500, ServerError, retried=True),
    "forges log lines": Behaviour(
        answers(500, {"success": False, "error": {"code": "SERVER_ERROR", "message": FORGED}}),
        ServerError,
        retried=True,
    ),
    "closes mid-body": Behaviour(close_mid_body, NetworkError, retried=True),
    "sends a garbage status line": Behaviour(garbage_status, NetworkError, retried=True),
    "sends endless headers": Behaviour(endless_headers, NetworkError, retried=True),
    "hangs up at once": Behaviour(hang_up, NetworkError, retried=True),
}


# -- running every case at once --------------------------------------------------------------


@dataclass
class Outcome:
    error: BaseException | None = None
    seconds: float = 0.0
    sleeps: list[float] = field(default_factory=list)


@dataclass
class Results:
    outcomes: dict[tuple[str, str], Outcome]
    running: Running
    logged: list[str]
    extra: dict[str, Any]


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def _timed(call: Callable[[], Awaitable[Any]]) -> tuple[BaseException | None, float]:
    start = time.monotonic()
    try:
        await call()
    except BaseException as exc:  # the test checks which
        return exc, time.monotonic() - start
    return None, time.monotonic() - start


async def _case(url: str, method: str, deadline: float) -> Outcome:
    clock = FakeClock()
    async with PromptOpsClient(
        KEY,
        base_url=url,
        timeout=deadline,
        # Each attempt has the whole deadline here: with every case at once on a busy machine,
        # an answer of 300 MB must meet the size limit, not the attempt's share of the time.
        # tests/hostile/test_attempts.py checks the shares.
        attempt_timeout=deadline,
        max_retries=RETRIES,
        max_response_bytes=LIMIT,
        clock=clock,
    ) as client:
        error, seconds = await _timed(lambda: METHODS[method](client))
    return Outcome(error, seconds, clock.sleeps)


async def _breaker_probe(url: str) -> dict[str, Any]:
    """A breaker, open and cooled down, probes a server that never answers."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    breaker.state, breaker.opened_at = "open", clock.monotonic()
    clock.advance(5)  # cooled down: the next call is the probe
    async with PromptOpsClient(KEY, base_url=url, timeout=DEADLINE, clock=FakeClock()) as client:
        error, seconds = await _timed(lambda: breaker.call(client.health_check))
    return {"error": error, "seconds": seconds, "state": breaker.state}


async def _hanging_resolver(host: str) -> list[str]:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _diagnostics(running: Running) -> dict[str, Any]:
    """Network diagnostics checks, each run alone with a `limit` deadline, against a server or
    resolver that never finishes."""
    limit = 0.5
    tls_host, tls_port = running.urls["never answers"].removeprefix("http://").split(":")
    dns, tls, public_health = NETWORK_CHECKS[0:1], NETWORK_CHECKS[2:3], NETWORK_CHECKS[3:4]

    def run(checks: Any, environ: dict[str, str], network: Network) -> Awaitable[Report]:
        ctx = CheckContext(environ, network=network, deadline=limit)
        return run_checks("network-diagnostics", checks, ctx)

    def http(name: str) -> Awaitable[Report]:
        return run(public_health, {"PROMPTOPS_BASE_URL": running.urls[name]}, Network())

    checks = await asyncio.gather(
        _timed_value(http("trickles headers")),
        _timed_value(http("trickles the body")),
        _timed_value(http("never answers")),
        _timed_value(run(dns, {}, Network(resolve=_hanging_resolver))),
        _timed_value(
            run(
                tls,
                {},
                Network(
                    connect_to=(tls_host, int(tls_port)),
                    tls_context=ssl.create_default_context(),
                ),
            )
        ),
    )
    return {"limit": limit, "checks": checks}


async def _timed_value(work: Awaitable[Any]) -> tuple[Any, float]:
    start = time.monotonic()
    value = await work
    return value, time.monotonic() - start


CASES = [(b, m) for b in BEHAVIOURS for m in METHODS]
TIMED = [(b, m) for b, m in CASES if BEHAVIOURS[b].slow]
UNTIMED = [(b, m) for b, m in CASES if not BEHAVIOURS[b].slow]


@pytest.fixture(scope="module")
def results() -> Iterator[Results]:
    keep = _Keep()
    root = logging.getLogger()
    root.addHandler(keep)
    levels = {name: logging.getLogger(name).level for name in ("promptops", "httpx", "httpcore")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    handlers = {name: b.handler for name, b in BEHAVIOURS.items()}
    gzip_bomb_body()  # made before any deadline runs: the servers' loop would stall on it
    try:
        with hostile_servers(handlers) as running:

            async def calls(keys: list[tuple[str, str]]) -> list[Outcome]:
                return await asyncio.gather(
                    *(_case(running.urls[b], m, BEHAVIOURS[b].deadline) for b, m in keys)
                )

            async def everything() -> tuple[list[Outcome], dict[str, Any]]:
                # First, at once, the calls that end in their own error: a few cost seconds of
                # CPU on a busy machine (300 MB, a gzip bomb), and none is timed. Then, at once,
                # those timed against their deadline, with the breaker and the diagnostics: they
                # only wait, so their deadlines fire on time on a busy machine too.
                ended = await calls(UNTIMED)
                start = time.monotonic()
                cut, breaker, diagnostics = await asyncio.gather(
                    calls(TIMED),
                    _breaker_probe(running.urls["never answers"]),
                    _diagnostics(running),
                )
                timed = time.monotonic() - start
                return ended + cut, {"breaker": breaker, "diagnostics": diagnostics, "timed": timed}

            outcomes, extra = asyncio.run(everything())
            yield Results(
                dict(zip(UNTIMED + TIMED, outcomes, strict=True)), running, keep.lines, extra
            )
    finally:
        root.removeHandler(keep)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# -- what every case must show --------------------------------------------------------------


def _all_text(error: BaseException) -> str:
    return f"{error}\n{error!r}\n" + "".join(traceback.format_exception(error))


@pytest.mark.parametrize(("behaviour", "method"), CASES)
def test_every_method_ends_in_the_documented_error_within_the_deadline(
    results: Results, behaviour: str, method: str
) -> None:
    expected = BEHAVIOURS[behaviour]
    outcome = results.outcomes[behaviour, method]
    assert type(outcome.error) is expected.error, (
        _all_text(outcome.error) if outcome.error else None
    )
    assert outcome.seconds <= expected.deadline + MARGIN
    if expected.slow:
        assert outcome.seconds >= DEADLINE * 0.9
        assert "no answer within the 1 s deadline" in str(outcome.error)
    assert isinstance(outcome.error, PromptOpsError)
    assert outcome.error.message.isprintable()  # one line, control characters escaped


@pytest.mark.parametrize(("behaviour", "method"), CASES)
def test_no_secret_in_what_the_client_raises(results: Results, behaviour: str, method: str) -> None:
    error = results.outcomes[behaviour, method].error
    assert error is not None
    text = _all_text(error)
    assert KEY not in text
    seen = results.running.seen[behaviour].requests
    signatures = [h["x-promptops-signature"] for _, _, h in seen if "x-promptops-signature" in h]
    assert signatures, "the server saw signed requests"
    for signature in signatures:
        assert signature.removeprefix("v1=") not in text


def test_no_secret_in_anything_logged(results: Results) -> None:
    assert results.logged, "the loggers were watched"
    leaked = [line for line in results.logged if KEY in line]
    assert not leaked, leaked[:3]
    for line in results.logged:
        assert "\n" not in line.split(" Traceback")[0], line  # one record, one line


@pytest.mark.parametrize("behaviour", [b for b, spec in BEHAVIOURS.items() if not spec.slow])
def test_each_server_saw_the_documented_number_of_attempts(
    results: Results, behaviour: str
) -> None:
    seen = results.running.seen[behaviour].requests
    paths = [path for _, path, headers in seen if "authorization" in headers]
    expected = BEHAVIOURS[behaviour].attempts * len(METHODS)
    assert len(paths) == expected, paths


@pytest.mark.parametrize(
    "behaviour", ["Retry-After 0", "Retry-After -5", "Retry-After NaN", "Retry-After in the past"]
)
def test_a_retry_after_of_no_time_waits_the_normal_backoff(
    results: Results, behaviour: str
) -> None:
    for method in METHODS:
        sleeps = results.outcomes[behaviour, method].sleeps
        assert len(sleeps) == RETRIES
        assert all(slept >= FLOOR * 2**n for n, slept in enumerate(sleeps)), sleeps


def test_a_redirect_is_not_followed(results: Results) -> None:
    paths = {path for _, path, _ in results.running.seen["redirects"].requests}
    assert "/elsewhere" not in paths
    error = results.outcomes["redirects", "health_check"].error
    assert str(error).endswith("a redirect to /elsewhere, which the client does not follow")


def test_forged_log_lines_stay_one_escaped_line(results: Results) -> None:
    error = results.outcomes["forges log lines", "health_check"].error
    assert str(error) == (
        "SERVER_ERROR: bad\\n2026-01-01T00:00:00Z INFO  promptops: all good"
        "\\x1b[2J\\x1b]0;owned\\x07"
    )


def test_a_hung_probe_is_bounded_by_the_deadline_and_leaves_the_breaker_open(
    results: Results,
) -> None:
    probe = results.extra["breaker"]
    assert type(probe["error"]) is RequestTimeoutError
    assert probe["seconds"] <= DEADLINE + MARGIN
    assert probe["state"] == "open"


def test_each_network_diagnostic_check_ends_within_the_run_s_deadline(results: Results) -> None:
    """DNS that never answers, a TLS server that never speaks, and HTTP servers that never
    finish their answer (the probe reads the body too: a trickling body no longer passes)."""
    diagnostics = results.extra["diagnostics"]
    limit = diagnostics["limit"]
    for report, seconds in diagnostics["checks"]:
        (finding,) = report.findings
        assert (finding.status, finding.detail) == (
            "failure",
            "ran out of time: no result within the 0.5 s deadline",
        )
        assert finding.ran_out_of_time
        assert seconds <= limit + MARGIN


def test_the_timed_calls_ran_at_once(results: Results) -> None:
    """The calls cut at their deadline, the breaker's probe and the diagnostics ran at once:
    together they last one deadline, not one each (15 s and more)."""
    assert results.extra["timed"] <= DEADLINE + MARGIN


def test_the_health_check_shows_no_secret_when_the_server_echoes_it(results: Results) -> None:
    url = results.running.urls["echoes the credentials"]
    report = asyncio.run(run_health_checks({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": url}))
    assert report.exit_code == 2
    shown = str(report) + json.dumps(report.as_json())
    assert KEY not in shown
    detail = report.findings[0].detail
    assert detail.startswith("AUTHENTICATION_ERROR: rejected Authorization: Bearer ***")
    assert "'x-promptops-signature': 'v1=***'" in detail  # the signature hidden too


# -- memory --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour", ["sends 300 MB", "sends an endless body", "sends a gzip bomb"]
)
def test_peak_memory_stays_near_the_size_limit(behaviour: str) -> None:
    """A 300 MB answer once took 1.2 GB, a gzip bomb 300 MB; the default 10 MiB limit now holds
    both near 10 MiB."""
    with hostile_servers({behaviour: BEHAVIOURS[behaviour].handler}) as running:

        async def main() -> None:
            async with PromptOpsClient(KEY, base_url=running.urls[behaviour], max_retries=0) as c:
                await c.get_prompt("hello-world")

        tracemalloc.start()
        try:
            with pytest.raises(ServerError, match="byte limit"):
                asyncio.run(main())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert MAX_RESPONSE_BYTES < peak < 1.5 * MAX_RESPONSE_BYTES, f"peak {peak / 2**20:.1f} MiB"


def test_nothing_listens_after_the_servers_stop() -> None:
    with hostile_servers({"never answers": silent}) as running:
        host, port = running.urls["never answers"].removeprefix("http://").split(":")
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
        pass


def test_the_clock_skew_check_ends_within_its_deadline() -> None:
    """It measures through the client's probe: a silent or trickling server once kept it
    running as long as the server liked."""
    behaviours = ("never answers", "trickles headers")
    with hostile_servers({b: BEHAVIOURS[b].handler for b in behaviours}) as running:

        async def measure(url: str) -> tuple[BaseException | float, float]:
            started = time.monotonic()
            settings = read_settings({"PROMPTOPS_BASE_URL": url}, require_key=False)
            try:
                async with PromptOpsClient(settings=settings, timeout=0.5) as client:
                    result: BaseException | float = await measure_clock_skew(client)
            except RequestTimeoutError as exc:
                result = exc
            return result, time.monotonic() - started

        async def main() -> list[tuple[BaseException | float, float]]:
            return list(await asyncio.gather(*(measure(running.urls[b]) for b in behaviours)))

        for result, seconds in asyncio.run(main()):
            assert isinstance(result, RequestTimeoutError), result
            assert str(result) == (
                "TIMEOUT_ERROR: GET /v1/health: no answer within the 0.5 s deadline (1 attempt; "
                "it timed out waiting for the answer)"
            )
            assert seconds <= 0.5 + MARGIN
