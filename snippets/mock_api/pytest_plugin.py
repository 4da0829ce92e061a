"""pytest fixtures for testing code that uses the PromptOps client, offline.

Enable in your own `conftest.py` with `pytest_plugins = ["snippets.mock_api.pytest_plugin"]`,
then take `mock_api` in a test: every request to api.promptops.com is answered by the mock and
`PROMPTOPS_API_KEY` holds its key. Run the code under test with the `run` fixture,
`run(my_tool())`: on the mock's clock, its waits take no time, and its clients sign with the
mock's time, whatever clock they were given. (Or pass the `clock` fixture to clients yourself,
`PromptOpsClient(clock=clock)`, as httpx takes `transport=`.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from snippets.client.clock import FakeClock
from snippets.mock_api.server import MockPromptOpsAPI


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock, the mock's: pass it to clients (`clock=clock`) and nothing really sleeps."""
    return FakeClock()


T = TypeVar("T")


@pytest.fixture
def run(clock: FakeClock) -> Callable[[Coroutine[Any, Any, T]], T]:
    """`run(coroutine)`: its result, the coroutine run on an event loop of the `clock` fixture
    (`FakeClock.event_loop()`), as `asyncio.run` would run it on a real one."""

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=clock.event_loop) as runner:
            return runner.run(coroutine)

    return run


@pytest.fixture
def mock_api(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockPromptOpsAPI]:
    """The mock API answering for api.promptops.com, with its key in `PROMPTOPS_API_KEY`.

    A request to any other host fails (respx `assert_all_mocked`): no test reaches the network.
    """
    monkeypatch.setenv("PROMPTOPS_API_KEY", MockPromptOpsAPI.api_key)
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    with MockPromptOpsAPI(clock=clock) as api:
        yield api
