"""Run every Python example on every docs page against the mock API and check what it prints.

- Inline ```python blocks run with pytest-examples; their `#>` lines must match what they print,
  including prints made inside imported snippets (the health check's PASS lines).
- A `#>` line under a line that printed nothing is stale, and fails.
- A ```json {mock="..."} block must be exactly the body the mock answers in that scenario.

A block runs against the mock API in the scenario it names, a row of the one table,
`MOCK_SCENARIOS` in snippets/scenarios.py (`mock="healthy"` when it names none, `mock="off"`
when it brings its own mock); mounted in the process (respx), or, with `served="true"`, served
over HTTP on 127.0.0.1.

Each example runs on the docs' `FakeClock`: the mock API spends its time on it, and the event
loop that `asyncio.run` makes in the example runs on it (`FakeClock.event_loop`), so retries
take no time and durations print the same everywhere. Wall-clock time stands still at the
clock's start, 2026-01-01T00:00:00Z, so dates print the same too.

Failures name `docs/<page>.md:<line>`. After an intended change, rewrite the outputs with
`pytest tests/test_docs.py --update-examples` (`nox -s update`).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import random
import re
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_examples.run_code
import time_machine
from pytest_examples import CodeExample, EvalExample, find_examples

from snippets.client import PromptOpsAuth
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.scenarios import HEALTHY, MockScenario

from .docs_blocks import DOCS, OUTPUT_LINE, ROOT, SNIPPETS, Block, blocks, is_include_only, pages
from .scenarios import scenario_of_block, shown_request


def _runnable_examples() -> list[CodeExample]:
    """Inline Python blocks; include-only blocks are covered by their snippet's own tests."""
    return [
        example
        for example in find_examples(DOCS)
        if "includes" not in example.path.relative_to(DOCS).parts
        and not is_include_only(example.source)
    ]


def json_blocks() -> list[Block]:
    """JSON bodies shown on the pages; a block that includes a file shows a JSON Schema (the
    map check sees to it)."""
    return [
        b for page in pages() for b in blocks(page) if b.lang == "json" and not b.is_include_only
    ]


def _in_real_time(example: CodeExample) -> bool:
    """Whether an example waits in real time on real connections: it starts a server on
    127.0.0.1 itself, or it meets the mock served over HTTP (`served="true"`). `nox -s hostile`
    runs these, so that `nox -s docs` stays quick; the copy check runs every block in real time
    anyway."""
    return "local_api_server(" in example.source or "served" in example.prefix_settings()


RUNNABLE = _runnable_examples()


@contextmanager
def on_the_docs_clock(clock: FakeClock) -> Iterator[None]:
    """Run code that reads the real clocks (a docs example) on `clock`: every event loop it
    makes (`asyncio.run`) runs on it, and wall-clock time stands still at its start.

    The loops: `asyncio.run` asks `asyncio.events.new_event_loop` for one; it is pointed at
    `clock.event_loop` for the block only (no event-loop policy, deprecated from Python 3.14,
    and nothing patched for longer than one example).
    """
    original = asyncio.events.new_event_loop
    asyncio.events.new_event_loop = clock.event_loop
    try:
        with time_machine.travel(clock.time(), tick=False):
            yield
    finally:
        asyncio.events.new_event_loop = original


DOCS_RANDOM_SEED = 0
"""The client jitters its waits at random: the pages show what it does with this seed, and the
copy check seeds a copied block's process the same way (tests/copied)."""


@pytest.fixture
def docs_env(clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An example's world: the docs clock, the docs' random seed and an empty working
    directory."""
    monkeypatch.chdir(tmp_path)
    state = random.getstate()
    random.seed(DOCS_RANDOM_SEED)
    try:
        with on_the_docs_clock(clock):
            yield
    finally:
        random.setstate(state)


def _where(example: CodeExample, line_in_example: int) -> str:
    """`docs/page.md:LINE` for a 1-based line of the example's source."""
    return f"{example.path.relative_to(ROOT)}:{example.start_line + line_in_example}"


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(ex, marks=[pytest.mark.real_time] * _in_real_time(ex), id=str(ex))
        for ex in RUNNABLE
    ],
)
@pytest.mark.usefixtures("docs_env")
def test_docs_example(
    example: CodeExample, eval_example: EvalExample, request: pytest.FixtureRequest
) -> None:
    check_example(example, eval_example, request)


def check_example(
    example: CodeExample, eval_example: EvalExample, request: pytest.FixtureRequest
) -> None:
    """Run one docs example in its mock scenario; fail, naming its Markdown line, if what it
    prints differs from its `#>` lines or a `#>` line sits under a line that printed nothing."""
    settings = example.prefix_settings()
    name = settings.get("mock", HEALTHY)
    if name != "off":  # "off": the example brings its own mock (a script's --mock mode)
        scenario = scenario_of_block(name, _where(example, 0))
        if "served" in settings:
            assert settings["served"] == "true", f'{_where(example, 0)}: served="true" or none'
            with served(scenario, request):
                _run_and_check(example, eval_example)
            return
        scenario.api(request.getfixturevalue("mock_api"))
    _run_and_check(example, eval_example)


@contextmanager
def served(scenario: MockScenario, request: pytest.FixtureRequest) -> Iterator[None]:
    """The mock in `scenario`, served over real HTTP on 127.0.0.1 as the copy check serves it,
    with `PROMPTOPS_BASE_URL` and `PROMPTOPS_API_KEY` pointing at it: for a block that says
    `served="true"`, about what happens only on a real connection (a kept-alive connection of
    an event loop that has closed). Such a block must print nothing of the base URL, which
    names a port."""
    from .local_server import serve  # uvicorn: imported by the few examples that need it

    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    api = MockPromptOpsAPI(clock=request.getfixturevalue("clock"))
    scenario.api(api)
    with serve(MockASGIApp(api)) as base_url:
        monkeypatch.setenv("PROMPTOPS_BASE_URL", base_url)
        monkeypatch.setenv("PROMPTOPS_API_KEY", api.api_key)
        yield


def _run_and_check(example: CodeExample, eval_example: EvalExample) -> None:
    printed_at: set[int] = set()

    def include_print(path: Path, frame: Any, args: Sequence[Any]) -> bool:
        """Check prints of the example itself and of the snippets it calls, and note the line
        of the example that made each (through any calls in between)."""
        filename = Path(frame.filename)
        if not (filename == path or filename.is_relative_to(SNIPPETS)):
            return False
        caller = frame.frame
        while caller is not None and Path(caller.f_code.co_filename) != path:
            caller = caller.f_back
        if caller is not None:
            printed_at.add(caller.f_lineno)
        return True

    eval_example.include_print = include_print
    eval_example.set_config(line_length=160)  # log lines stay on one #> line each
    # No assertion rewriting: examples print, they do not assert, and rewriting costs a compile.
    if eval_example.update_examples:
        eval_example.run_print_update(example, rewrite_assertions=False)
        return
    try:
        eval_example.run_print_check(example, rewrite_assertions=False)
    except pytest.fail.Exception as failure:
        diff = str(failure.msg).split("\n", 1)[-1]
        line = _first_changed_line(diff) or example.start_line + 1
        where = f"{example.path.relative_to(ROOT)}:{line}"
        pytest.fail(f"{where}: printed output differs from the #> lines\n{diff}", pytrace=False)
    stale = _stale_output_lines(example.source, printed_at)
    if stale:
        lines = ", ".join(_where(example, n) for n in stale)
        pytest.fail(f"{lines}: #> output under a line that printed nothing", pytrace=False)


def _stack_without_source() -> list[inspect.FrameInfo]:
    """`inspect.stack()` as pytest-examples uses it, to find the line of each `print`: the
    frames and their files, without the source lines around each (`code_context` is None).

    Why: `inspect.stack()` reads the source and looks up the module of every frame on the
    stack, some 60 under pytest, on every print: a third of the examples' time.
    """
    frame: types.FrameType | None = sys._getframe(1)
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return frames


@pytest.fixture(autouse=True)
def _prints_found_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-examples' print capture, with `_stack_without_source` for `inspect.stack`."""
    fast = types.SimpleNamespace(**vars(inspect))
    fast.stack = _stack_without_source
    monkeypatch.setattr(pytest_examples.run_code, "inspect", fast)


def _first_changed_line(diff: str) -> int | None:
    """The page line of the first changed line in pytest-examples' diff, whose hunk headers
    (`@@ -137,7 +137,7 @@`) already count lines of the Markdown file."""
    line = None
    for row in diff.splitlines():
        row = row.strip()
        header = re.match(r"@@ -(\d+)", row)
        if header:
            line = int(header[1])
        elif line is not None and row.startswith(("-", "+")) and not row.startswith(("---", "+++")):
            return line
        elif line is not None and not row.startswith("+"):
            line += 1
    return None


def _stale_output_lines(source: str, printed_at: set[int]) -> list[int]:
    """Lines starting a `#>` run whose statement above printed nothing."""
    lines = source.splitlines()
    tree = ast.parse(source)
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    stale = []
    for number, line in enumerate(lines, start=1):
        if not OUTPUT_LINE.match(line) or (number > 1 and OUTPUT_LINE.match(lines[number - 2])):
            continue
        above = number - 1
        owners = [s for s in statements if s.end_lineno == above]
        if not owners:
            stale.append(number)
            continue
        owner = min(owners, key=lambda s: above - s.lineno)
        if not any(owner.lineno <= p <= above for p in printed_at):
            stale.append(number)
    return stale


@pytest.mark.parametrize("block", json_blocks(), ids=lambda b: b.where)
@pytest.mark.usefixtures("docs_env")
def test_docs_json_body_is_what_the_mock_answers(
    block: Block, mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    check_json_block(block, mock_api, clock)


def check_json_block(block: Block, mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    """The block's JSON (and the status in its title) is what the mock answers."""
    name = block.settings.get("mock")
    assert name, f"{block.where}: a json block must name a mock scenario (mock=...)"
    scenario_of_block(name, block.where).api(mock_api)

    shown = shown_request(name)

    async def fetch() -> httpx.Response:
        auth = PromptOpsAuth(shown.api_key, clock)
        async with httpx.AsyncClient(base_url=mock_api.base_url, auth=auth) as http:
            return await http.request(shown.method, shown.path, json=shown.body)

    response = asyncio.run(fetch())
    assert json.loads(block.body) == response.json(), (
        f"{block.where}: the mock answers {response.json()}"
    )
    status = re.match(r"HTTP (\d{3})", block.settings.get("title", ""))
    if status:
        assert int(status[1]) == response.status_code, (
            f"{block.where}: the title says HTTP {status[1]}, the mock answers "
            f"{response.status_code}"
        )
