"""The docs' examples are ruff-clean and formatted; findings point at Markdown lines."""

from __future__ import annotations

import tomllib

from pytest_examples import CodeExample

from .docs_blocks import ROOT, page_snippet_modules
from .docs_lint import SHOWN_LINE_LENGTH, lint


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


RUFF_TOML = f'extend = "../../pyproject.toml"\nline-length = {SHOWN_LINE_LENGTH}\n'


def test_page_snippet_folders_keep_the_shown_line_limit() -> None:
    """Pages include `snippets/<page>/*.py` whole: ruff holds each folder to the limit the
    examples have (a `ruff.toml` extending the project's), so the code fits its block. The
    failure names each file to write, and what to write in it."""
    folders = sorted({path.parent for path in page_snippet_modules()})
    problems = []
    for folder in folders:
        config = folder / "ruff.toml"
        found = tomllib.loads(config.read_text("utf-8")) if config.exists() else {}
        if found.get("line-length") != SHOWN_LINE_LENGTH:
            problems.append(f"{config.relative_to(ROOT)}: write it as\n{RUFF_TOML}")
        for package in (folder, ROOT / "tests" / folder.name):
            if not (package / "__init__.py").exists():
                init = (package / "__init__.py").relative_to(ROOT)
                problems.append(f"{init}: create it (empty): the folder is a package")
    assert not problems, "\n".join(problems)


def test_an_output_line_may_be_long_but_a_code_line_may_not() -> None:
    output = " ".join(["word"] * 18)  # 89 characters
    source = f'print(\n    "{output}"\n)\n#> {output}\n'
    example = CodeExample.create(source, path=ROOT / "docs/x.md", start_line=9)
    assert lint([example]) == ["docs/x.md:11:80: E501 Line too long (95 > 79)"]
