"""The debug client wrapper (snippets/debugging/debug_client.py)."""

from __future__ import annotations

import asyncio
import re

import pytest

from snippets.client import NetworkError, PromptNotFoundError, PromptOpsClient, PromptVariables
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.debugging import debug_client
from snippets.debugging.debug_client import DebugPromptOpsClient
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp

from ..local_server import serve


def test_logs_each_call_with_its_duration(
    mock_api: MockPromptOpsAPI, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    mock_api.simulate_latency(1.0)  # whole seconds: "%.0f ms" would hide a factor of 1.001
    clock.advance(60)  # durations are differences, not readings of the clock
    caplog.set_level("INFO", logger="promptops.debug")

    async def main() -> str:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            debug = DebugPromptOpsClient(client)
            rendered = await debug.call(
                "render_prompt", "hello-world", variables=PromptVariables(name="Ada Lovelace")
            )
            return str(rendered.content)

    assert asyncio.run(main()) == "Hello, Ada Lovelace!"
    assert [r.getMessage() for r in caplog.records if r.name == "promptops.debug"] == [
        "-> render_prompt('hello-world', variables=<1 variables>)",
        "<- render_prompt ok in 1000 ms",
    ]
    assert "Lovelace" not in caplog.text  # variable values are personal data


def test_failures_are_logged_and_reraised_with_their_duration(
    mock_api: MockPromptOpsAPI, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    mock_api.simulate_latency(1.0)
    clock.advance(60)

    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await DebugPromptOpsClient(client).call("get_prompt", "missing")

    with pytest.raises(PromptNotFoundError):
        asyncio.run(main())
    (last,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert last.getMessage() == (
        "<- get_prompt failed after 1000 ms: PROMPT_NOT_FOUND: Prompt 'missing' not found"
    )


def test_command_line_mock_run_logs_both_calls_with_their_durations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m snippets.debugging.debug_client --mock`: no key, no network, 35 ms per call."""
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert debug_client.main(["--mock"]) == 0
    wrapper = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert wrapper[::3] + wrapper[2::3] == [
        "-> render_prompt('hello-world', <1 variables>)",
        "-> get_prompt('hello-wrold')",
        "<- render_prompt ok in 35 ms",
        "<- get_prompt failed after 35 ms: PROMPT_NOT_FOUND: Prompt 'hello-wrold' not found",
    ]


def test_the_demo_prints_its_log_also_when_a_call_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The API unreachable once the demo has found its prompt: the wrapper's lines come out
    before the error (on fake time: the client's retries take none)."""
    monkeypatch.setenv("PROMPTOPS_API_KEY", MockPromptOpsAPI.api_key)
    clock = FakeClock()
    with (
        MockPromptOpsAPI(clock=SYSTEM_CLOCK) as api,  # the demo's client signs on real time
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
        pytest.raises(NetworkError),
    ):
        api.connection_refused(times=99, path="/v1/client/prompts/hello-world/render")
        runner.run(debug_client.demo())
    wrapper = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    wrapper = [line for line in wrapper if line.startswith(("->", "<-"))]
    assert wrapper[0] == "-> render_prompt('hello-world', <1 variables>)"
    assert re.fullmatch(  # after its retries' jittered backoff
        r"<- render_prompt failed after \d+ ms: NETWORK_ERROR: Could not reach "
        r"https://api\.promptops\.com: \[Errno 111\] Connection refused",
        wrapper[1],
    )
    assert len(wrapper) == 2


@pytest.mark.real_time  # a server on 127.0.0.1, stopped in real time
def test_the_demo_logs_the_wrapper_s_lines_not_httpcore_s_debug_chatter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over real HTTP (the mock served on 127.0.0.1), httpcore logs every connection step at
    DEBUG: the demo logs at INFO, so a reader sees the calls, not the plumbing."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    with serve(MockASGIApp(api)) as base_url:
        monkeypatch.setenv("PROMPTOPS_BASE_URL", base_url)
        monkeypatch.setenv("PROMPTOPS_API_KEY", api.api_key)
        assert asyncio.run(debug_client.demo()) == 0
    names = {line.split()[2].rstrip(":") for line in capsys.readouterr().out.splitlines()}
    assert names == {"promptops.debug", "httpx"}


def test_the_demo_renders_the_first_prompt_the_key_lists_with_its_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workspace whose prompts are not the mock's: the demo assumes none of them."""
    monkeypatch.setenv("PROMPTOPS_API_KEY", MockPromptOpsAPI.api_key)
    clock = FakeClock()
    with (
        MockPromptOpsAPI(clock=SYSTEM_CLOCK) as api,  # the demo's client signs on real time
        asyncio.Runner(loop_factory=clock.event_loop) as runner,
    ):
        api.prompts = {"onboarding": {"name": "O", "template": "{{a}} {{b}}", "version": 1}}
        assert runner.run(debug_client.demo()) == 0
    wrapper = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert [line for line in wrapper if line.startswith(("->", "<-"))][:2] == [
        "-> render_prompt('onboarding', <2 variables>)",
        "<- render_prompt ok in 0 ms",
    ]
