"""The client's settings, input checks, cache and secrecy."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import logging
import math
import re
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from snippets.client import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    PromptNotFoundError,
    PromptOpsAuth,
    PromptOpsClient,
    PromptOpsError,
    PromptVariables,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.client.errors import describe_transport_error
from snippets.client.models import check_prompt_id
from snippets.mock_api import MockPromptOpsAPI

from ..local_server import refused_port, serve


def test_missing_api_key_names_the_environment_variable(
    mock_api: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY")
    with pytest.raises(ConfigurationError, match="PROMPTOPS_API_KEY"):
        PromptOpsClient(clock=mock_api.clock)
    with pytest.raises(ConfigurationError, match="PROMPTOPS_API_KEY"):
        PromptOpsClient("   ", clock=mock_api.clock)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", math.inf),
        ("timeout", math.nan),
        ("timeout", True),
        ("timeout", "30"),
        ("cache_ttl", -5),
        ("max_retries", -1),
        ("max_retries", 1.5),
        ("base_url", "ftp://api.promptops.com"),
        ("base_url", "api.promptops.com"),
        ("base_url", "https://"),
        ("max_retry_after", -1),
        ("max_response_bytes", 0),
    ],
)
def test_bad_settings_fail_fast(mock_api: MockPromptOpsAPI, setting: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=f"^{setting} "):  # the setting named first
        PromptOpsClient(**{setting: value})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cache_ttl": -5}, "cache_ttl must be a finite number of seconds >= 0, got -5"),
        ({"timeout": 0}, "timeout must be a finite number of seconds > 0, got 0"),
        ({"max_response_bytes": 0}, "max_response_bytes must be an int >= 1, got 0"),
        ({"base_url": "https://api.example.com:0"}, "base_url has port 0: ports are 1 to 65535"),
        (
            {"base_url": "https://api.example.com:65536"},
            "base_url has port 65536: ports are 1 to 65535",
        ),
        (
            {"base_url": 443},
            "base_url must be an http(s) URL such as 'https://api.promptops.com', got '443'",
        ),
    ],
    ids=["cache_ttl", "timeout", "max_response_bytes", "port 0", "port 65536", "not text"],
)
def test_a_bad_setting_is_refused_saying_what_it_must_be(
    mock_api: MockPromptOpsAPI, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PromptOpsClient(clock=mock_api.clock, **settings)
    assert str(caught.value) == message


@pytest.mark.parametrize("port", [1, 65535])
def test_the_first_and_last_ports_are_ports(mock_api: MockPromptOpsAPI, port: int) -> None:
    client = PromptOpsClient(base_url=f"https://api.example.com:{port}", clock=mock_api.clock)
    assert client.base_url == f"https://api.example.com:{port}"


def test_the_smallest_settings_allowed_are_accepted(mock_api: MockPromptOpsAPI) -> None:
    """No waiting for a Retry-After at all, a one-byte answer limit, no cache."""
    client = PromptOpsClient(
        max_retry_after=0, max_response_bytes=1, cache_ttl=0, clock=mock_api.clock
    )
    assert (client.max_retry_after, client.max_response_bytes, client.cache_ttl) == (0, 1, 0)


def test_requests_say_which_client_sent_them(mock_api: MockPromptOpsAPI) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await client.health_check()

    asyncio.run(main())
    assert mock_api.requests[0].headers["User-Agent"] == "promptops-docs-client/0.1"


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "http://localhost:8080/")
    assert PromptOpsClient("k").base_url == "http://localhost:8080"


@pytest.mark.parametrize(
    "prompt_id", ["", " ", "../etc/passwd", "hello world", "-dash-first", "a" * 129, None, 42]
)
def test_bad_prompt_ids_are_rejected_before_any_request(
    mock_api: MockPromptOpsAPI, prompt_id: Any
) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            with pytest.raises(ValidationError, match="Invalid prompt id"):
                await client.get_prompt(prompt_id)
            with pytest.raises(ValidationError, match="Invalid prompt id"):
                await client.render_prompt(prompt_id, PromptVariables(name="x"))

    asyncio.run(main())
    assert mock_api.requests == []


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"user-name": "x"}, "Invalid variable name 'user-name'"),
        ({"": "x"}, "Invalid variable name ''"),
        ({"1st": "x"}, "Invalid variable name '1st'"),
        ({"when": object()}, r"Variable 'when' cannot be sent as JSON \(object\)"),
        ({"ratio": math.nan}, r"Variable 'ratio' cannot be sent as JSON \(float\)"),
        ({"items": {1, 2}}, r"Variable 'items' cannot be sent as JSON \(set\)"),
        ({"prénom": "x"}, "Invalid variable name 'prénom'"),
        ({"text": "\ud800"}, r"Variable 'text' cannot be sent as JSON \(str\)"),
    ],
)
def test_bad_variables_are_rejected_before_any_request(
    mock_api: MockPromptOpsAPI, variables: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        PromptVariables(variables)

    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            with pytest.raises(ValidationError, match=message):
                await client.render_prompt("hello-world", variables)  # a plain dict is checked too

    asyncio.run(main())
    assert mock_api.requests == []


def test_missing_template_variable_is_a_validation_error_from_the_api(
    mock_api: MockPromptOpsAPI,
) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await client.render_prompt("welcome-message", PromptVariables(name="Ada"))

    with pytest.raises(ValidationError, match="Missing variable.*company") as caught:
        asyncio.run(main())
    assert caught.value.status_code == 422


def test_a_bad_prompt_id_is_refused_saying_what_an_id_is(mock_api: MockPromptOpsAPI) -> None:
    with pytest.raises(ValidationError) as caught:
        check_prompt_id("hello world")
    assert caught.value.message == (
        "Invalid prompt id 'hello world': use 1-128 letters, digits, '-' or '_', starting with "
        "a letter or digit"
    )


def test_an_id_that_is_not_even_hashable_is_a_validation_error(
    mock_api: MockPromptOpsAPI,
) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await client.get_prompt(["hello-world"])  # type: ignore[arg-type]

    with pytest.raises(ValidationError, match="Invalid prompt id"):
        asyncio.run(main())


def test_render_without_variables_sends_none_and_the_api_names_what_is_missing(
    mock_api: MockPromptOpsAPI,
) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await client.render_prompt("hello-world")

    with pytest.raises(ValidationError) as caught:
        asyncio.run(main())
    assert caught.value.message == "Missing variable(s) for prompt 'hello-world': name"
    assert json.loads(mock_api.requests[0].content) == {"variables": {}}


def test_cache_hits_misses_and_ttl(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    async def main() -> list[dict[str, Any]]:
        stats = []
        async with PromptOpsClient(cache_ttl=60, clock=clock) as client:
            await client.get_prompt("hello-world")
            await client.get_prompt("hello-world")
            stats.append(client.get_cache_stats())
            clock.advance(61)
            stats.append(client.get_cache_stats())
            await client.get_prompt("hello-world")
            stats.append(client.get_cache_stats())
        return stats

    fresh, expired, refetched = asyncio.run(main())
    assert fresh == {"hits": 1, "misses": 1, "hit_rate": 0.5, "size": 1}
    assert expired["size"] == 0
    assert refetched == {"hits": 1, "misses": 2, "hit_rate": 1 / 3, "size": 1}
    assert len(mock_api.requests) == 2


def test_cache_stats_before_any_lookup_and_at_the_ttl_exactly(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    async def main() -> list[dict[str, Any]]:
        async with PromptOpsClient(cache_ttl=60, clock=clock) as client:
            before = client.get_cache_stats()
            await client.get_prompt("hello-world")
            clock.advance(60)  # the entry lives 60 s: at 60 s it is gone, as for get_prompt
            at_ttl = client.get_cache_stats()
            await client.get_prompt("hello-world")
            return [before, at_ttl]

    before, at_ttl = asyncio.run(main())
    assert before == {"hits": 0, "misses": 0, "hit_rate": 0.0, "size": 0}
    assert at_ttl["size"] == 0
    assert len(mock_api.requests) == 2  # fetched again at the ttl exactly


@pytest.mark.parametrize(
    ("cache_ttl", "stats"),
    [
        (1, {"hits": 1, "misses": 1, "hit_rate": 0.5, "size": 1}),  # serves within that second
        (0, {"hits": 0, "misses": 2, "hit_rate": 0.0, "size": 0}),  # turns the cache off
    ],
    ids=["one second", "zero"],
)
def test_a_second_fetch_at_once_is_a_hit_unless_cache_ttl_is_zero(
    mock_api: MockPromptOpsAPI, cache_ttl: int, stats: dict[str, Any]
) -> None:
    async def main() -> dict[str, Any]:
        async with PromptOpsClient(cache_ttl=cache_ttl, clock=mock_api.clock) as client:
            await client.get_prompt("hello-world")
            await client.get_prompt("hello-world")
            return client.get_cache_stats()

    assert asyncio.run(main()) == stats


def test_the_api_key_is_not_in_repr_or_errors(mock_api: MockPromptOpsAPI) -> None:
    client = PromptOpsClient("po_secret_canary_123", clock=mock_api.clock)
    assert "po_secret_canary_123" not in repr(client)

    async def main() -> None:
        async with client:
            await client.health_check()

    with pytest.raises(Exception) as caught:
        asyncio.run(main())
    assert "po_secret_canary_123" not in f"{caught.value} {caught.value!r}"


def test_list_prompts(mock_api: MockPromptOpsAPI) -> None:
    async def main() -> list[str]:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            return await client.list_prompts()

    assert asyncio.run(main()) == ["hello-world", "welcome-message", "customer-service"]


def test_aclose_twice_and_reuse_after_close(mock_api: MockPromptOpsAPI) -> None:
    async def main() -> str:
        client = PromptOpsClient(clock=mock_api.clock)
        await client.aclose()
        await client.initialize()
        await client.aclose()
        await client.aclose()
        status = (await client.health_check()).status  # reopens the pool
        await client.aclose()
        return status

    assert asyncio.run(main()) == "healthy"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, PromptNotFoundError),
        (408, RequestTimeoutError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (504, RequestTimeoutError),
        (418, PromptOpsError),
    ],
)
def test_an_error_code_this_client_does_not_know_is_mapped_by_status(
    clock: FakeClock, status: int, expected: type[PromptOpsError]
) -> None:
    """Forward compatibility: the API may add codes; the class follows the HTTP status."""
    body = {"success": False, "error": {"code": "QUOTA_EXHAUSTED", "message": "Monthly quota"}}
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))

    async def main() -> None:
        async with PromptOpsClient("k", transport=transport, max_retries=0, clock=clock) as client:
            await client.health_check()

    with pytest.raises(expected) as caught:
        asyncio.run(main())
    assert type(caught.value) is expected
    assert caught.value.message == "QUOTA_EXHAUSTED: Monthly quota"
    assert caught.value.status_code == status


def test_408_is_retried(clock: FakeClock) -> None:
    answers = iter([408, 200])
    ok = {"success": True, "data": {"status": "healthy", "version": "1"}}
    timeout = {"success": False, "error": {"code": "REQUEST_TIMEOUT", "message": "slow"}}

    def respond(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json=ok if status == 200 else timeout)

    async def main() -> str:
        async with PromptOpsClient(
            "k", transport=httpx.MockTransport(respond), clock=clock
        ) as client:
            return (await client.health_check()).status

    assert asyncio.run(main()) == "healthy"


def test_auth_repr_hides_the_key() -> None:
    assert repr(PromptOpsAuth("po_secret_value", FakeClock())) == "PromptOpsAuth(api_key='***')"


def test_a_refused_connection_on_a_real_socket_says_connection_refused() -> None:
    """httpx on asyncio says "All connection attempts failed"; the client digs out the OSError."""

    async def main(base_url: str) -> None:
        async with PromptOpsClient("po_test", base_url=base_url, max_retries=0) as client:
            await client.health_check()

    with refused_port() as port:
        nowhere = f"http://127.0.0.1:{port}"
        with pytest.raises(NetworkError) as caught:
            asyncio.run(main(nowhere))
    assert caught.value.message == f"Could not reach {nowhere}: [Errno 111] Connection refused"


def test_an_unreachable_network_says_so_not_all_connection_attempts_failed() -> None:
    """No route (an IPv6-only network and an IPv4 address, say): the OSError underneath."""
    unreachable = httpx.ConnectError("All connection attempts failed")
    unreachable.__cause__ = OSError("All connection attempts failed")
    unreachable.__cause__.__cause__ = OSError(101, "Connect call failed ('203.0.113.10', 443)")
    assert describe_transport_error(unreachable) == "[Errno 101] Network is unreachable"


def test_a_tls_error_is_described_without_the_line_of_python_s_source() -> None:
    """`(_ssl.c:1000)` differs from one Python version to the next; the pages show this text."""
    error = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)")
    wrapped = httpx.ConnectError(str(error))
    wrapped.__cause__ = error
    assert describe_transport_error(wrapped) == "[SSL: WRONG_VERSION_NUMBER] wrong version number"


def test_a_transport_error_without_a_message_is_named_by_its_type() -> None:
    """httpx raises some errors with an empty message: the reader still learns which."""
    assert describe_transport_error(httpx.RemoteProtocolError("")) == "RemoteProtocolError"


def test_the_settings_table_on_common_issues_shows_the_client_s_defaults() -> None:
    page = (Path(__file__).parents[2] / "docs/common-issues.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", page, flags=re.M)
    defaults = inspect.signature(PromptOpsClient).parameters
    assert len(rows) == 6
    for name, shown in rows:
        assert ast.literal_eval(shown) == defaults[name].default, name


async def _echo_the_key(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI server that echoes the Authorization header back in a response header."""
    if scope["type"] != "http":  # lifespan
        message = await receive()
        await send({"type": f"{message['type']}.complete"})
        return
    authorization = dict(scope["headers"]).get(b"authorization", b"")
    body = b'{"success": true, "data": {"status": "healthy", "version": "1"}}'
    headers = [(b"content-type", b"application/json"), (b"x-echo", authorization)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.real_time  # a server on 127.0.0.1, stopped in real time
def test_a_key_a_server_echoes_is_kept_out_of_httpcore_s_debug_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """httpcore logs the response headers as received: the key a server echoes in one is
    replaced before any handler sees the line."""
    key = "po_live_echoed_9f3c2a7d1e5b"

    async def main() -> None:
        async with PromptOpsClient(key, base_url=base_url, max_retries=0) as client:
            await client.health_check()

    with serve(_echo_the_key) as base_url, caplog.at_level(logging.DEBUG):  # type: ignore[arg-type]
        asyncio.run(main())
    headers = [
        r.getMessage()
        for r in caplog.records
        if "receive_response_headers.complete" in r.getMessage()
    ]
    assert len(headers) == 1 and "x-echo" in headers[0]
    assert key not in caplog.text


def test_the_system_clock_blocks_for_the_time_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """By `time.sleep`, asked, not timed: how long a sleep takes depends on the machine."""
    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    SYSTEM_CLOCK.block(0)
    SYSTEM_CLOCK.block(0.001)
    assert asked == [0, 0.001]
