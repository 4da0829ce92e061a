"""Mutate the docs and check the harness catches every change: `nox -s mutate` runs this.

Each mutant is one edit a careless change could make: a `#>` output line altered or deleted,
an include pointed at a section or file that is not there, a JSON body value changed. A mutant
is caught when the harness check that guards it fails. Not collected by a normal test run (the
file name does not start with `test_`); run it with `pytest tests/mutate_docs.py`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from pytest_examples import CodeExample, EvalExample

from .docs_blocks import OUTPUT_LINE, ROOT, Block, Include, includes, pages
from .test_docs import RUNNABLE, check_example, check_json_block, docs_env  # noqa: F401


@dataclasses.dataclass(frozen=True)
class Mutant:
    kind: str
    where: str
    apply: Callable[..., None]  # raises when the harness catches the mutant

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}"


def _output_mutants() -> list[Mutant]:
    mutants = []
    for example in RUNNABLE:
        lines = example.source.splitlines()
        for index, line in enumerate(lines):
            if not OUTPUT_LINE.match(line):
                continue
            where = f"{example.path.relative_to(ROOT)}:{example.start_line + index + 1}"
            for kind, new_lines in (
                ("#> line changed", [*lines[:index], line + " (changed)", *lines[index + 1 :]]),
                ("#> line deleted", [*lines[:index], *lines[index + 1 :]]),
            ):
                mutated = dataclasses.replace(example, source="\n".join(new_lines) + "\n")

                def run(
                    eval_example: EvalExample,
                    request: pytest.FixtureRequest,
                    ex: CodeExample = mutated,
                    **_: Any,
                ) -> None:
                    check_example(ex, eval_example, request)

                mutants.append(Mutant(kind, where, run))
    return mutants


def _include_resolves(include: Include) -> None:
    assert include.path.exists(), f"missing {include.path}"
    if include.section:
        assert f"[start:{include.section}]" in include.path.read_text("utf-8")


def _include_mutants() -> list[Mutant]:
    mutants = []
    for page in pages():
        for include in includes(page):
            where = f"{page.relative_to(ROOT)} -> {include.path.relative_to(ROOT)}"
            moved = (
                dataclasses.replace(include, section=include.section + "_renamed")
                if include.section
                else dataclasses.replace(include, path=include.path.with_suffix(".moved"))
            )

            def run(inc: Include = moved, **_: Any) -> None:
                _include_resolves(inc)

            mutants.append(Mutant("include target moved", where, run))
    return mutants


def _json_mutants() -> list[Mutant]:
    from .test_docs import json_blocks

    mutants = []
    for block in json_blocks():
        body = json.loads(block.body)
        body["error"]["message"] += " (changed)"
        changed = dataclasses.replace(block, body=json.dumps(body))

        def run(request: pytest.FixtureRequest, b: Block = changed, **_: Any) -> None:
            mock_api = request.getfixturevalue("mock_api")
            check_json_block(b, mock_api, request.getfixturevalue("clock"))

        mutants.append(Mutant("json message changed", block.where, run))
    return mutants


MUTANTS = [*_output_mutants(), *_include_mutants(), *_json_mutants()]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
@pytest.mark.usefixtures("docs_env")
def test_mutant_is_caught(
    mutant: Mutant, eval_example: EvalExample, request: pytest.FixtureRequest
) -> None:
    # Caught means the harness itself failed (pytest.fail or an assertion), not a crash.
    with pytest.raises((pytest.fail.Exception, AssertionError)):
        mutant.apply(eval_example=eval_example, request=request)
