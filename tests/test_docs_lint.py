"""The docs' examples are ruff-clean and formatted; findings point at Markdown lines."""

from __future__ import annotations

from pytest_examples import CodeExample

from .docs_blocks import ROOT
from .docs_lint import lint


def test_examples_are_linted_and_formatted() -> None:
    problems = lint()
    assert not problems, "\n".join(problems)


def test_findings_name_the_markdown_line() -> None:
    page = ROOT / "docs" / "example.md"
    source = 'import os\n\nprint("hi")\n#> hi\n'
    example = CodeExample.create(source, path=page, start_line=40)
    assert lint([example]) == ["docs/example.md:41:8: F401 `os` imported but unused"]


def test_unformatted_example_is_reported_at_its_first_line() -> None:
    source = "x  =  1\nprint( x )\n#> 1\n"
    example = CodeExample.create(source, path=ROOT / "docs/x.md", start_line=9)
    (problem,) = lint([example])
    assert problem.startswith("docs/x.md:10: not formatted")
    assert "+x = 1" in problem and "+print(x)" in problem
    assert "# > 1" not in problem  # the `#>` marker is shown as written
