"""The docs' examples are ruff-clean and formatted; findings point at Markdown lines."""

from __future__ import annotations

import re
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


def test_each_page_folder_is_a_package_in_its_layer_at_the_shown_line_length() -> None:
    """What a page's first tool needs besides itself and its test, each a file the tools read:

    - `snippets/<page>/ruff.toml`: pages include the folder's modules whole, so ruff holds them
      to the limit the examples have (ruff has no per-file line length: a folder's config);
    - `snippets/<page>/__init__.py` and `tests/<page>/__init__.py`: import-linter skips a
      folder without one (its imports go unchecked), and the tests import as packages;
    - the package in every import-linter contract that names the pages' packages
      (pyproject.toml): one left out is one whose imports nothing checks.

    The failure names each file, and what to write in it."""
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
    packages = [f"snippets.{folder.name}" for folder in folders]
    problems += contracts_leaving_out(packages, (ROOT / "pyproject.toml").read_text("utf-8"))
    assert not problems, "\n".join(problems)


def contracts_leaving_out(packages: list[str], pyproject: str) -> list[str]:
    """For each import-linter contract in `pyproject` that names some of `packages` but not
    all: `pyproject.toml:LINE`, what it leaves out, and the line to write there."""
    lines = pyproject.splitlines()
    starts = [n for n, line in enumerate(lines) if line == "[[tool.importlinter.contracts]]"]
    problems = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        naming = {
            n: found
            for n in range(start, end)
            if (found := set(re.findall(r"snippets\.\w+", lines[n])) & set(packages))
        }
        missing = [p for p in packages if not any(p in found for found in naming.values())]
        if not naming or not missing:
            continue
        last = max(naming)
        if len(naming[last]) > 1:  # the layer of the pages, one line: "a | b | c",
            added = "".join(f" | {p}" for p in missing)
            fix = "write the line as:\n" + re.sub(r'"(,?)$', rf'{added}"\1', lines[last])
        else:  # one module a line
            indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
            fix = "add after it:\n" + "\n".join(f'{indent}"{p}",' for p in missing)
        contract = next(line for line in lines[start:end] if line.startswith("name = "))
        problems.append(
            f"pyproject.toml:{last + 1}: the import-linter contract {contract[7:]} leaves out "
            f"{', '.join(missing)}, whose imports it then does not check; {fix}"
        )
    return problems


def test_a_contract_that_names_the_pages_names_every_page() -> None:
    pyproject = (
        "[[tool.importlinter.contracts]]\n"
        'name = "layers"\n'
        "layers = [\n"
        '    "snippets.doctor",\n'
        '    "snippets.index | snippets.faq",\n'
        "]\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "forbidden"\n'
        "source_modules = [\n"
        '    "snippets.index",\n'
        '    "snippets.faq",\n'
        "]\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "other"\n'
        'source_modules = ["snippets.doctor"]\n'
    )
    packages = ["snippets.faq", "snippets.index", "snippets.webhooks"]
    assert contracts_leaving_out(packages, pyproject) == [
        'pyproject.toml:5: the import-linter contract "layers" leaves out snippets.webhooks, '
        "whose imports it then does not check; write the line as:\n"
        '    "snippets.index | snippets.faq | snippets.webhooks",',
        'pyproject.toml:11: the import-linter contract "forbidden" leaves out snippets.webhooks, '
        "whose imports it then does not check; add after it:\n"
        '    "snippets.webhooks",',
    ]
    assert contracts_leaving_out(packages[:2], pyproject) == []


def test_an_output_line_may_be_long_but_a_code_line_may_not() -> None:
    output = " ".join(["word"] * 18)  # 89 characters
    source = f'print(\n    "{output}"\n)\n#> {output}\n'
    example = CodeExample.create(source, path=ROOT / "docs/x.md", start_line=9)
    assert lint([example]) == ["docs/x.md:11:80: E501 Line too long (95 > 79)"]
