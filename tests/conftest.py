"""Fixtures shared by every test: a fake clock and the mock PromptOps API, active."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snippets.client.clock import FakeClock, use_clock
from snippets.mock_api import MockPromptOpsAPI


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

    Any request to another host fails (respx `assert_all_mocked`), so no test reaches the network.
    """
    monkeypatch.setenv("PROMPTOPS_API_KEY", MockPromptOpsAPI.api_key)
    monkeypatch.delenv("PROMPTOPS_BASE_URL", raising=False)
    with MockPromptOpsAPI(clock=clock) as api:
        yield api
