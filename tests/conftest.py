"""Suite-wide rules, on top of the fixtures a reader gets (`clock`, `mock_api`):

- the mock API's key is a canary: no test may print it or log it (at any level, any logger);
- no test connects anywhere but loopback (pytest-socket, `--allow-hosts` in pyproject.toml);
- no test sleeps for real: time is faked (the `clock` fixture); a test that asks for a real
  sleep fails, however fast or busy the machine.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.mark.expression import Expression  # how -m reads its expression

from snippets.mock_api import MOCK_API_KEY

pytest_plugins = ["snippets.mock_api.pytest_plugin"]

CANARY = MOCK_API_KEY


OWN_SESSIONS = ("browser", "copied")


WHOLLY_MATRIX = "\npytestmark = pytest.mark.matrix"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/browser (Playwright and Chromium) and tests/copied (virtualenvs of the wheel) are
    collected only by `-m browser` and `-m copied`, in their own nox sessions; a module marked
    `matrix` as a whole is not even imported by a run that leaves `matrix` out (`nox -s docs`:
    each worker would import it, then deselect all it holds)."""
    if collection_path.name in OWN_SESSIONS and config.option.markexpr != collection_path.name:
        return True
    if (
        collection_path.suffix == ".py"
        and collection_path.name.startswith("test_")
        and not _selects("matrix", config.option.markexpr)
        and WHOLLY_MATRIX in collection_path.read_text(encoding="utf-8")
    ):
        return True
    return None


def _selects(marker: str, markexpr: str) -> bool:
    """Whether `-m markexpr` selects a test marked `marker` alone."""
    if not markexpr:
        return True
    expression = Expression.compile(markexpr)
    return expression.evaluate(lambda name, /, **kwargs: name == marker)


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


@pytest.fixture(scope="session", autouse=True)
def watched_at_debug() -> Iterator[None]:
    """The WATCHED loggers at DEBUG for the whole run (set once: each `setLevel` clears the
    cache of every logger)."""
    loggers = [logging.getLogger(name) for name in WATCHED]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture(autouse=True)
def restore_logging(watched_at_debug: None) -> Iterator[None]:
    """Each test starts with logging as a reader's program does (the root logger at WARNING;
    the WATCHED loggers at DEBUG) and leaves it as it found it: handlers it added removed and
    closed, levels put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    watched = [logging.getLogger(name) for name in WATCHED]
    _set_level(root, logging.WARNING)
    try:
        yield
    finally:
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
            handler.close()
        _set_level(root, level)
        for logger in watched:
            _set_level(logger, logging.DEBUG)


def _set_level(logger: logging.Logger, level: int) -> None:
    if logger.level != level:  # setLevel clears every logger's cache, even for the same level
        logger.setLevel(level)


@pytest.fixture(autouse=True)
def canary_never_logged(restore_logging: None) -> Iterator[None]:
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
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


REAL_TIME_SESSIONS = ("copied", "hostile", "schemathesis", "browser", "recipe")


class RealSleeps:
    """The real sleeps a test asks for on the main thread (servers' threads may sleep):
    `time.sleep`, and `asyncio.sleep` on an event loop that runs on real time (on a `FakeClock`
    it takes no real time). What counts is the seconds asked for, not what the wall clock saw:
    a busy machine changes nothing."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def counting_time_sleep(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        def counted(seconds: float) -> None:
            self._count(seconds)
            sleep(seconds)

        return counted

    def counting_asyncio_sleep(self, sleep: Callable[..., Any]) -> Callable[..., Any]:
        async def counted(delay: float, *args: Any, **kwargs: Any) -> Any:
            if _on_real_time(asyncio.get_running_loop()):
                self._count(delay)
            return await sleep(delay, *args, **kwargs)

        return counted

    def _count(self, seconds: float) -> None:
        if seconds > 0 and threading.current_thread() is threading.main_thread():
            self.asked.append(seconds)

    def problem(self) -> str | None:
        if not self.asked:
            return None
        return (
            f"this test asked for {sum(self.asked):.3g} s of real sleep in {len(self.asked)} "
            f"call(s): fake time instead (the clock fixture, FakeClock.event_loop())"
        )


def _on_real_time(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether `loop` keeps asyncio's own time, the system's monotonic clock (a loop on a
    `FakeClock` has a `time()` of its own)."""
    return getattr(loop.time, "__func__", None) is asyncio.BaseEventLoop.time


@pytest.fixture(autouse=True)
def no_real_sleep(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Fail a test that asks for real sleep (its own, and its fixtures' that start after this
    one). Not the sessions on real sockets and processes (copy check, hostile network,
    Schemathesis, browser, the recipe in a copy): they wait for servers and processes on real
    time, and `Popen.wait` polls with short sleeps."""
    if any(request.node.get_closest_marker(m) for m in REAL_TIME_SESSIONS):
        yield
        return
    sleeps = RealSleeps()
    monkeypatch.setattr(time, "sleep", sleeps.counting_time_sleep(time.sleep))
    monkeypatch.setattr(asyncio, "sleep", sleeps.counting_asyncio_sleep(asyncio.sleep))
    yield
    problem = sleeps.problem()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker ends with its session: freeze what it built, so that the interpreter's
    last garbage collection skips it (0.3 s a worker here; nothing of it needs finalising).
    Not in a process that may run another session (mutation testing runs many in one)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        gc.freeze()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the docs map: every block, and how it is checked."""
    if terminalreporter.config.getoption("update_examples"):
        return  # the pages were just rewritten: their blocks moved since collection
    if terminalreporter.config.option.markexpr in (
        *OWN_SESSIONS,
        "recipe",
        "matrix",
        "hostile or real_time",
    ):
        return  # a session of its own (browser, copied): the docs session prints the map
    from tests.test_docs_map import map_report

    terminalreporter.section("docs map: how each code block is checked")
    terminalreporter.write_line(map_report())
