"""Suite-wide rules, on top of the fixtures a reader gets (`clock`, `mock_api`):

- the mock API's key is a canary: no test may print it or log it (at any level, any logger);
- no test connects anywhere but loopback (pytest-socket, `--allow-hosts` in pyproject.toml).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator

import pytest

from snippets.mock_api import MOCK_API_KEY

pytest_plugins = ["snippets.mock_api.pytest_plugin"]

CANARY = MOCK_API_KEY


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
def canary_never_logged() -> Iterator[None]:
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    levels = {name: logging.getLogger(name).level for name in WATCHED}
    for name in WATCHED:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(collector)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the docs map: every block of every page, and how the harness checks it."""
    if terminalreporter.config.getoption("update_examples"):
        return  # the pages were just rewritten: their blocks moved since collection
    from tests.test_docs_map import map_report

    terminalreporter.section("docs map: how each code block is checked")
    terminalreporter.write_line(map_report())
