"""pytest fixtures for testing code that uses the PromptOps client, offline.

Enable in your own `conftest.py` with `pytest_plugins = ["snippets.mock_api.pytest_plugin"]`,
then take `mock_api` in a test: every request to api.promptops.com is answered by the mock,
`PROMPTOPS_API_KEY` holds its key, and time is fake, so retries and backoff take no time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snippets.client.clock import FakeClock, use_clock
from snippets.mock_api.server import MockPromptOpsAPI


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    """A fake clock, also the default for clients created during the test: nothing really sleeps."""
    fake = FakeClock()
    previous = use_clock(fake)
    try:
        yield fake
    finally:
        use_clock(previous)


@pytest.fixture
def mock_api(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockPromptOpsAPI]:
    """The mock API answering for api.promptops.com, with its key in `PROMPTOPS_API_KEY`.

    A request to any other host fails (respx `assert_all_mocked`): no test reaches the network.
    """
    monkeypatch.setenv("PROMPTOPS_API_KEY", MockPromptOpsAPI.api_key)
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    with MockPromptOpsAPI(clock=clock) as api:
        yield api
