"""Error handling in application code (snippets/api_errors/handle_errors.py)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable

import httpx
import pytest

from snippets.api_errors.handle_errors import is_outage, render_or_fallback
from snippets.client import (
    AuthenticationError,
    NetworkError,
    PromptNotFoundError,
    PromptOpsClient,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.local import local_api_server_thread


def render(
    api: MockPromptOpsAPI, prompt_id: str = "hello-world", api_key: str | None = None
) -> str:
    async def main() -> str:
        async with PromptOpsClient(api_key, clock=api.clock) as client:
            return await render_or_fallback(client, prompt_id, {"name": "Ada"}, "Hello!")

    return asyncio.run(main())


def test_success_returns_the_rendered_text(mock_api: MockPromptOpsAPI) -> None:
    assert render(mock_api) == "Hello, Ada!"


@pytest.mark.parametrize(
    "fault",
    [
        lambda api: api.server_error(times=3),
        lambda api: api.rate_limit(times=3, retry_after=1),
        lambda api: api.gateway_timeout(times=3),
        lambda api: api.connection_refused(times=3),
        lambda api: api.timeout(times=3),
    ],
)
def test_lasting_transient_failures_serve_the_fallback(
    mock_api: MockPromptOpsAPI,
    fault: Callable[[MockPromptOpsAPI], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fault(mock_api)
    assert render(mock_api) == "Hello!"
    assert "using fallback for hello-world" in caplog.text


def test_the_fallback_is_logged_as_a_warning_naming_the_prompt_and_the_error(
    mock_api: MockPromptOpsAPI, caplog: pytest.LogCaptureFixture
) -> None:
    mock_api.server_error(times=3)
    assert render(mock_api) == "Hello!"
    (record,) = [r for r in caplog.records if r.name == "snippets.api_errors.handle_errors"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "PromptOps unavailable, using fallback for hello-world: "
        "SERVER_ERROR: The server is temporarily unavailable"
    )


def test_a_transient_failure_that_clears_is_retried_not_fallen_back(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.server_error(times=2)
    assert render(mock_api) == "Hello, Ada!"


@pytest.mark.parametrize(
    ("prompt_id", "api_key", "error"),
    [
        ("hello-world", "po_wrong", AuthenticationError),
        ("no-such-prompt", None, PromptNotFoundError),
        ("welcome-message", None, ValidationError),  # needs `company` too
    ],
)
def test_mistakes_are_raised_not_hidden(
    mock_api: MockPromptOpsAPI, prompt_id: str, api_key: str | None, error: type[PromptOpsError]
) -> None:
    with pytest.raises(error):
        render(mock_api, prompt_id, api_key)


def _failing_transport(error: Callable[[], BaseException]) -> httpx.MockTransport:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error()

    return httpx.MockTransport(fail)


def _certificate_error() -> BaseException:
    wrapped = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    wrapped.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    return wrapped


def _no_such_host() -> BaseException:
    wrapped = httpx.ConnectError("[Errno -2] Name or service not known")
    wrapped.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return wrapped


@pytest.mark.parametrize("error", [_certificate_error, _no_such_host], ids=["tls", "dns"])
def test_a_permanent_network_error_is_raised_not_hidden_by_the_fallback(
    error: Callable[[], BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> str:
        transport = _failing_transport(error)
        async with PromptOpsClient("po_x", transport=transport, clock=FakeClock()) as client:
            return await render_or_fallback(client, "hello-world", {"name": "Ada"}, "Hello!")

    with pytest.raises(NetworkError) as caught:
        asyncio.run(main())
    assert caught.value.permanent
    assert "using fallback" not in caplog.text


def test_a_passing_network_failure_still_gets_the_fallback() -> None:
    """Not every NETWORK_ERROR is a mistake: a refused connection or a busy resolver is an
    outage, retried and then served the fallback."""

    async def main() -> str:
        transport = _failing_transport(lambda: httpx.ConnectError("[Errno 111] refused"))
        async with PromptOpsClient("po_x", transport=transport, clock=FakeClock()) as client:
            return await render_or_fallback(client, "hello-world", {"name": "Ada"}, "Hello!")

    assert asyncio.run(main()) == "Hello!"


def test_a_client_shared_between_event_loops_is_raised_on_its_second_loop() -> None:
    """The page's proof over a real connection: `Event loop is closed` is permanent."""
    with local_api_server_thread() as server:
        client = PromptOpsClient(server.api_key, base_url=server.url)
        first = asyncio.run(render_or_fallback(client, "hello-world", {"name": "A"}, "Hi"))
        with pytest.raises(NetworkError, match="Event loop is closed") as caught:
            asyncio.run(render_or_fallback(client, "hello-world", {"name": "B"}, "Hi"))
    assert first == "Hello, A!"
    assert caught.value.permanent


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (ServerError("down", status_code=503), True),
        (RateLimitError("slow down", status_code=429, retry_after=1), True),
        (RequestTimeoutError("no answer"), True),
        (NetworkError("refused"), True),
        (NetworkError("certificate verify failed", permanent=True), False),
        (AuthenticationError("wrong key", status_code=401), False),
        (PromptNotFoundError("no such prompt", status_code=404), False),
        (ValidationError("bad variable"), False),
    ],
    ids=lambda value: getattr(value, "message", value),
)
def test_an_outage_is_what_the_client_retries_and_is_not_permanent(
    error: PromptOpsError, outage: bool
) -> None:
    assert is_outage(error) is outage
