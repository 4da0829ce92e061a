"""Run every terminal session on the pages and check what each command prints.

A ```console block is a session: each `$ command` runs in-process, in order, on the docs'
clock and random seed, with none of this machine's PromptOps, proxy or CA variables (the
session sets its own with `export` or `NAME=value`); its output (stdout and stderr, as a
terminal shows them) must be the lines the page shows under it. Scripts bring their own mock
with `--mock`; a block that names a scenario, ```console {mock="wrong-key"}, runs against the
mock API in that scenario instead. Failures name `docs/<page>.md:<line>`.

After an intended change, `pytest tests/test_console.py --update-examples` (`nox -s update`)
rewrites the outputs.
"""

from __future__ import annotations

import difflib
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from snippets.client.clock import FakeClock
from snippets.offline import CLIENT_VARIABLES

from .console import Session, commands, run
from .docs_blocks import ROOT, Block, blocks, pages
from .scenarios import scenario_of_block
from .test_docs import DOCS_RANDOM_SEED, on_the_docs_clock


def console_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks(page) if block.lang == "console"]


# page -> [(the block as collected, its new body)]: written at the end of an --update-examples
# run, each block found again by its body (other rewrites of the page may have moved it).
_UPDATES: dict[Path, list[tuple[Block, str]]] = {}


@pytest.fixture(scope="session", autouse=True)
def _write_updates() -> Iterator[None]:
    yield
    for page, updates in _UPDATES.items():
        text = page.read_text("utf-8")
        for old, body in updates:
            now = [b for b in blocks(page, text) if b.lang == "console" and b.body == old.body]
            if not now:
                continue  # changed since it ran: run the update again
            block = min(now, key=lambda b: abs(b.line - old.line))
            lines = text.splitlines(keepends=True)
            opening = lines[block.line - 1]
            indent = opening[: len(opening) - len(opening.lstrip())]
            close = block.line + block.body.count("\n")
            lines[block.line : close] = [
                f"{indent}{row}\n" if row else "\n" for row in body.splitlines()
            ]
            text = "".join(lines)
        page.write_text(text, "utf-8")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """None of this machine's settings: a session's output is the same everywhere."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name in CLIENT_VARIABLES or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize("block", console_blocks(), ids=lambda b: b.where)
@pytest.mark.usefixtures("clean_environment")
def test_terminal_session_prints_what_the_page_shows(
    block: Block, clock: FakeClock, request: pytest.FixtureRequest
) -> None:
    name = block.settings.get("mock", "off")
    if name != "off":
        scenario_of_block(name, block.where).api(request.getfixturevalue("mock_api"))
    session = Session()
    body: list[str] = []
    with on_the_docs_clock(clock), _seeded():
        for command in commands(block):
            printed = run(command, session)
            body += [f"$ {command.text}", *printed]
            where = f"{block.page.relative_to(ROOT)}:{block.line + command.line}"
            if list(command.shown) != printed and not request.config.getoption("update_examples"):
                diff = "\n".join(
                    difflib.unified_diff(
                        list(command.shown), printed, "on the page", "printed", lineterm=""
                    )
                )
                pytest.fail(
                    f"{where}: `$ {command.text}` printed other lines than the page shows\n{diff}",
                    pytrace=False,
                )
    if request.config.getoption("update_examples") and "\n".join(body) != block.body.rstrip("\n"):
        _UPDATES.setdefault(block.page, []).append((block, "\n".join(body) + "\n"))


@contextmanager
def _seeded() -> Iterator[None]:
    """`random` seeded as for the Python examples: the client's jitter prints the same."""
    state = random.getstate()
    random.seed(DOCS_RANDOM_SEED)
    try:
        yield
    finally:
        random.setstate(state)
