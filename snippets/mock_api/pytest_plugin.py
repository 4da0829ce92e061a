"""pytest fixtures for testing code that uses the PromptOps client, offline.

Enable in your own `conftest.py` with `pytest_plugins = ["snippets.mock_api.pytest_plugin"]`,
then take `mock_api` in a test: every request to api.promptops.com is answered by the mock and
`PROMPTOPS_API_KEY` holds its key. Time is passed in, as httpx takes `transport=`: give clients
the `clock` fixture, `PromptOpsClient(clock=clock)`, and retries and backoff take no time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snippets.client.clock import FakeClock
from snippets.mock_api.server import MockPromptOpsAPI


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock, the mock's: pass it to clients (`clock=clock`) and nothing really sleeps."""
    return FakeClock()


@pytest.fixture
def mock_api(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockPromptOpsAPI]:
    """The mock API answering for api.promptops.com, with its key in `PROMPTOPS_API_KEY`.

    A request to any other host fails (respx `assert_all_mocked`): no test reaches the network.
    """
    monkeypatch.setenv("PROMPTOPS_API_KEY", MockPromptOpsAPI.api_key)
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    with MockPromptOpsAPI(clock=clock) as api:
        yield api
