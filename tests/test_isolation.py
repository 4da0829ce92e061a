"""The suite's own guards work: no network beyond loopback, and the key canary."""

from __future__ import annotations

import logging
import socket

import pytest
from pytest_socket import SocketConnectBlockedError

from snippets.mock_api import MOCK_API_KEY

from .conftest import _Collector, pytest_runtest_makereport


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_connecting_beyond_127_0_0_1_is_blocked() -> None:
    # 127.0.0.2 is loopback too, so even a broken guard sends nothing off this machine.
    with socket.socket() as sock, pytest.raises(SocketConnectBlockedError):
        sock.connect(("127.0.0.2", 9))


def test_a_report_that_shows_the_canary_fails_and_hides_it() -> None:
    """The report hook: a passing test whose captured output shows the key is failed, and the
    failure report shows `<API KEY>` instead of the key."""
    report = pytest.TestReport(
        "tests/x.py::test_x",
        ("tests/x.py", 1, "test_x"),
        {},
        "passed",
        None,
        "call",
        [("Captured stdout call", f"Authorization: Bearer {MOCK_API_KEY}")],
    )
    hook = pytest_runtest_makereport(None, None)  # type: ignore[arg-type]  # unused by it
    next(hook)
    with pytest.raises(StopIteration) as done:
        hook.send(report)
    result = done.value.value
    assert result.outcome == "failed"
    assert "the API key leaked into: Captured stdout call" in str(result.longrepr)
    assert MOCK_API_KEY not in str(result.longrepr)
    assert "Bearer <API KEY>" in str(result.longrepr)


def test_the_collector_would_see_a_logged_key() -> None:
    """What the canary check reads: the full text of a record, arguments included."""
    secret = "po_demo_not_the_canary"  # the canary itself must never be logged, even here
    collector = _Collector()
    logger = logging.getLogger("test.canary")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(collector)
    try:
        logger.debug("Request kwargs: %s", {"headers": {"Authorization": f"Bearer {secret}"}})
    finally:
        logger.removeHandler(collector)
    assert any(secret in text for text in collector.texts)
