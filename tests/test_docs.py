"""Run every Python example on every docs page against the mock API and check what it prints.

- Inline ```python blocks run with pytest-examples; their `#>` lines must match what they print,
  including prints made inside imported snippets (the health check's PASS lines).
- A `#>` line under a line that printed nothing is stale, and fails.
- A ```json {mock="..."} block must be exactly the body the mock answers in that scenario.

Failures name `docs/<page>.md:<line>`. After an intended change, rewrite the outputs with
`pytest tests/test_docs.py --update-examples`.
"""

from __future__ import annotations

import ast
import asyncio
import difflib
import inspect
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
import time_machine
from pytest_examples import CodeExample, EvalExample, find_examples

from snippets.client import PromptOpsAuth
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI

from .docs_blocks import DOCS, ROOT, SNIPPETS, Block, blocks, pages
from .docs_scenarios import SCENARIOS

_OUTPUT_LINE = re.compile(r"^ *#> ")


def _runnable_examples() -> list[CodeExample]:
    """Inline Python blocks; include-only blocks are covered by their snippet's own tests."""
    examples = []
    for example in find_examples(DOCS):
        if "includes" in example.path.relative_to(DOCS).parts:
            continue
        body = re.sub(r'^ *--8<-- +"[^"]+" *$', "", example.source, flags=re.M)
        if body.strip():
            examples.append(example)
    return examples


def json_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page) if b.lang == "json"]


RUNNABLE = _runnable_examples()


@pytest.fixture
def docs_env(clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Wall time frozen at the fake clock's start (dates print the same), an empty working
    directory, and logging as it was once the example is done."""
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("promptops", "httpx", "httpcore")}
    root.setLevel(logging.WARNING)  # logging as a reader's program starts with it
    try:
        with time_machine.travel(clock.time(), tick=False):
            yield
    finally:
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


def _where(example: CodeExample, line_in_example: int) -> str:
    """`docs/page.md:LINE` for a 1-based line of the example's source."""
    return f"{example.path.relative_to(ROOT)}:{example.start_line + line_in_example}"


@pytest.mark.parametrize("example", RUNNABLE, ids=str)
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
    scenario = example.prefix_settings().get("mock", "ok")
    if scenario != "off":  # "off": the example brings its own mock (a script's --mock mode)
        assert scenario in SCENARIOS, f"{_where(example, 0)}: unknown mock scenario {scenario!r}"
        SCENARIOS[scenario].setup(request.getfixturevalue("mock_api"))

    printed_at: set[int] = set()

    def include_print(path: Path, frame: inspect.FrameInfo, args: Sequence[Any]) -> bool:
        """Check prints of the example itself and of the snippets it calls."""
        filename = Path(frame.filename)
        if not (filename == path or filename.is_relative_to(SNIPPETS)):
            return False
        caller: FrameType | None = frame.frame
        while caller is not None and Path(caller.f_code.co_filename) != path:
            caller = caller.f_back
        if caller is not None:
            printed_at.add(caller.f_lineno)
        return True

    eval_example.include_print = include_print
    request.getfixturevalue("monkeypatch").setattr(inspect, "stack", _frames_without_source)
    eval_example.set_config(line_length=160)  # log lines stay on one #> line each
    if eval_example.update_examples:
        eval_example.run_print_update(example)
        indented = _indent_outputs(example.source)
        if indented != example.source:
            example.source = indented
            eval_example._mark_for_update(example)  # written back at the session's end
        return

    # `_run` is pytest-examples' own runner (version pinned in uv.lock); we call it to keep the
    # recorded prints, so a mismatch can be reported at its Markdown line.
    # No assertion rewriting: examples print, they do not assert, and rewriting costs a compile.
    insert_print, _ = eval_example._run(example, "check", None, False, None)
    expected = insert_print.updated_print_statements(example)
    # The indent of a `#>` line is cosmetic: pytest-examples puts the output of a print made
    # inside an imported function at column 0, while the page indents it under the call.
    if expected is not None and _dedent_output(expected) != _dedent_output(example.source):
        old, new = example.source.splitlines(), expected.splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
            min(len(old), len(new)),
        )
        diff = "\n".join(difflib.unified_diff(old, new, "page", "printed", lineterm=""))
        pytest.fail(
            f"{_where(example, first + 1)}: printed output differs from the #> lines\n{diff}",
            pytrace=False,
        )
    stale = _stale_output_lines(example.source, printed_at)
    if stale:
        lines = ", ".join(_where(example, n) for n in stale)
        pytest.fail(f"{lines}: #> output under a line that printed nothing", pytrace=False)


def _frames_without_source(context: int = 1) -> list[inspect.FrameInfo]:
    """`inspect.stack()` without reading source files: the frames, files and line numbers that
    pytest-examples' print mock uses. The real one finds each frame's module and source on every
    print, which was most of the docs examples' run time."""
    frames = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        frames.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return frames


def _indent_outputs(source: str) -> str:
    """Indent each run of `#>` lines like the code line above it (the line that printed)."""
    lines = source.splitlines()
    indent = ""
    for number, line in enumerate(lines):
        if _OUTPUT_LINE.match(line):
            lines[number] = indent + line.lstrip()
        elif line.strip():
            indent = line[: len(line) - len(line.lstrip())]
    return "\n".join(lines) + "\n"


def _dedent_output(source: str) -> str:
    return re.sub(r"^[ ]+(#> )", r"\1", source.rstrip("\n"), flags=re.M)


def _stale_output_lines(source: str, printed_at: set[int]) -> list[int]:
    """Lines starting a `#>` run whose statement above printed nothing."""
    lines = source.splitlines()
    tree = ast.parse(source)
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    stale = []
    for number, line in enumerate(lines, start=1):
        if not _OUTPUT_LINE.match(line) or (number > 1 and _OUTPUT_LINE.match(lines[number - 2])):
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
    assert name in SCENARIOS, f"{block.where}: a json block must name a mock scenario (mock=...)"
    scenario = SCENARIOS[name]
    scenario.setup(mock_api)

    async def fetch() -> httpx.Response:
        auth = PromptOpsAuth(scenario.api_key, clock)
        async with httpx.AsyncClient(base_url=mock_api.base_url, auth=auth) as http:
            return await http.request(scenario.method, scenario.path, json=scenario.body)

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
