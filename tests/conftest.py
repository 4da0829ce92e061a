"""Suite-wide rules, on top of the fixtures a reader gets (`clock`, `mock_api`):

- the mock API's key is a canary: no test may print it or log it (at any level, any logger);
- no test connects anywhere but loopback (pytest-socket, `--allow-hosts` in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from snippets.mock_api import MOCK_API_KEY

pytest_plugins = ["snippets.mock_api.pytest_plugin"]

CANARY = MOCK_API_KEY


OWN_SESSIONS = ("browser", "copied")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/browser (Playwright and Chromium) and tests/copied (virtualenvs of the wheel) are
    collected only by `-m browser` and `-m copied`, in their own nox sessions."""
    if collection_path.name in OWN_SESSIONS and config.option.markexpr != collection_path.name:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the built site last: `nox -s docs` builds it while the others run."""
    items.sort(key=lambda item: item.get_closest_marker("built_site") is not None)


class _Collector(logging.Handler):
    """Keeps the final text of every record (message, traceback, stack) a test produces."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append(f"{record.name}: {text}{record.stack_info or ''}")


# The loggers that see requests: at DEBUG during every test, so every record they could write
# is created and checked.
WATCHED = ("promptops", "httpx", "httpcore")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Each test starts with logging as a reader's program does (the root logger at WARNING)
    and leaves it as it found it: handlers it added removed and closed, levels put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in WATCHED}
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


@pytest.fixture(autouse=True)
def canary_never_logged(restore_logging: None) -> Iterator[None]:
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    for name in WATCHED:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(collector)
    leaked = [text for text in collector.texts if CANARY in text]
    assert not leaked, f"the API key was logged: {leaked[:3]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fail a test whose captured stdout or stderr, or whose failure report, shows the key."""
    report = yield
    texts = [(name, content) for name, content in report.sections]
    if report.longrepr is not None:
        texts.append(("the failure report (an exception message or repr)", str(report.longrepr)))
    leaks = [(name, text) for name, text in texts if CANARY in text]
    if leaks:
        report.outcome = "failed"
        shown = "\n".join(
            f"--- {name} (key shown as <API KEY>):\n{text.replace(CANARY, '<API KEY>')}"
            for name, text in leaks
        )
        report.longrepr = f"the API key leaked into: {', '.join(n for n, _ in leaks)}\n{shown}"
    return report


class _SleepMeter:
    """Adds up the real time the suite's own thread spends sleeping (servers' threads may
    sleep). A sleep on an event loop that runs on a `FakeClock` takes no real time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap_time(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        def metered(seconds: float) -> None:
            started = time.perf_counter()
            try:
                sleep(seconds)
            finally:
                self._count(seconds, time.perf_counter() - started)

        return metered

    def wrap_asyncio(self, sleep: Callable[..., Any]) -> Callable[..., Any]:
        async def metered(delay: float, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await sleep(delay, *args, **kwargs)
            finally:
                self._count(delay, time.perf_counter() - started)

        return metered

    def _count(self, asked: float, spent: float) -> None:
        if asked > 0 and threading.current_thread() is threading.main_thread():
            self.seconds += spent
            self.calls += 1


SLEEP = _SleepMeter()
MAX_REAL_SLEEP = 0.05  # seconds, for the whole suite


def pytest_configure(config: pytest.Config) -> None:
    time.sleep = SLEEP.wrap_time(time.sleep)  # type: ignore[assignment]  # same call signature
    asyncio.sleep = SLEEP.wrap_asyncio(asyncio.sleep)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: hand the total to the controller
        worker_output["real_sleep"] = (SLEEP.seconds, SLEEP.calls)
        return
    if _sleep_limit_applies(session.config) and SLEEP.seconds > MAX_REAL_SLEEP and exitstatus == 0:
        session.exitstatus = 1


def _sleep_limit_applies(config: pytest.Config) -> bool:
    """Not to the copy check: its tests wait for real on the processes they run (the standard
    library's `Popen.wait` polls with short sleeps)."""
    return bool(config.option.markexpr != "copied")


def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: add up what each worker slept."""
    seconds, calls = node.workeroutput.get("real_sleep", (0.0, 0))
    SLEEP.seconds += seconds
    SLEEP.calls += calls


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the real sleep total, and the docs map: every block, and how it is checked."""
    if not _sleep_limit_applies(terminalreporter.config):
        return
    verdict = "FAIL: " if SLEEP.seconds > MAX_REAL_SLEEP else ""
    terminalreporter.write_line(
        f"{verdict}real sleep in tests: {SLEEP.seconds:.3f} s in {SLEEP.calls} call(s) "
        f"(the limit is {MAX_REAL_SLEEP} s: fake time with the clock fixture)"
    )
    if terminalreporter.config.getoption("update_examples"):
        return  # the pages were just rewritten: their blocks moved since collection
    if terminalreporter.config.option.markexpr in OWN_SESSIONS:
        return  # a session of its own (browser, copied): the docs session prints the map
    from tests.test_docs_map import map_report

    terminalreporter.section("docs map: how each code block is checked")
    terminalreporter.write_line(map_report())
