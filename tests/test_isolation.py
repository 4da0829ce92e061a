"""The suite's own guards work: no network beyond loopback, the key canary, no real sleep."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import pytest
from pytest_socket import SocketConnectBlockedError

from snippets.client.clock import FakeClock
from snippets.mock_api import MOCK_API_KEY

from .conftest import RealSleeps, _Collector, pytest_runtest_makereport


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


def test_real_sleeps_counts_what_was_asked_on_the_main_thread_on_real_time() -> None:
    """Counted: `time.sleep`, and `asyncio.sleep` on a loop on real time. Not counted: sleeps of
    0, on a `FakeClock`'s loop (no real time passes), or on another thread (a server's). The
    sleeps counted here are stand-ins that return at once: the test sleeps for nothing."""
    sleeps = RealSleeps()
    time_sleep = sleeps.counting_time_sleep(lambda seconds: None)

    async def no_wait(delay: float) -> None:
        pass

    asyncio_sleep = sleeps.counting_asyncio_sleep(no_wait)
    time_sleep(0)
    assert sleeps.problem() is None
    time_sleep(0.25)
    asyncio.run(asyncio_sleep(0.5))
    with asyncio.Runner(loop_factory=FakeClock().event_loop) as on_fake_time:
        on_fake_time.run(asyncio_sleep(100))
    server = threading.Thread(target=time_sleep, args=(7,))
    server.start()
    server.join()
    assert sleeps.asked == [0.25, 0.5]
    assert sleeps.problem() == (
        "this test asked for 0.75 s of real sleep in 2 call(s): "
        "fake time instead (the clock fixture, FakeClock.event_loop())"
    )
