"""The suite uses the same fixtures a reader gets: `clock` (fake time) and `mock_api`."""

from __future__ import annotations

import pytest

pytest_plugins = ["snippets.mock_api.pytest_plugin"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the docs map: every block of every page, and how the harness checks it."""
    if terminalreporter.config.getoption("update_examples"):
        return  # the pages were just rewritten: their blocks moved since collection
    from tests.test_docs_map import map_report

    terminalreporter.section("docs map: how each code block is checked")
    terminalreporter.write_line(map_report())
