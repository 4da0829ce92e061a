"""Lint and format the Python examples in the docs with ruff, reporting `docs/<page>.md:<line>`.

pytest-examples' own ruff integration maps line numbers by matching ruff's old `-:LINE:COL`
output; ruff >= 0.12.9 prints `--> -:LINE:COL` instead, so the Markdown lines are lost. Here
each example is written to its own file, ruff runs once over all of them with
`--output-format=json` (a stable, documented format), and each finding's row is mapped back to
the page. `--fix` applies ruff's fixes and formatting and writes the blocks back into the pages.

    python -m tests.docs_lint          # report
    python -m tests.docs_lint --fix    # rewrite the examples in place
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from textwrap import indent

from pytest_examples import CodeExample, find_examples
from ruff.__main__ import find_ruff_bin

from .docs_blocks import DOCS, ROOT, is_include_only

CONFIG = ["--config", str(ROOT / "pyproject.toml")]
# Code shown on a page fits a code block at 1280 px: 80 columns of a monospace font there
# (measured in Chromium by tests/browser/test_views.py), less one for fonts a hair wider.
SHOWN_LINE_LENGTH = 79
EXAMPLE_RULES = ["--line-length", str(SHOWN_LINE_LENGTH)]


def examples() -> list[CodeExample]:
    return [
        ex
        for ex in find_examples(DOCS)
        if "includes" not in ex.path.relative_to(DOCS).parts and not is_include_only(ex.source)
    ]


def _for_ruff(source: str) -> str:
    """ruff format turns `#>` into `# >`; hand it the latter and turn it back afterwards."""
    return re.sub(r"^( *)#> ", r"\1# > ", source, flags=re.M)


def _from_ruff(source: str) -> str:
    return re.sub(r"^([ +-]? *)# > ", r"\1#> ", source, flags=re.M)


def _is_output(example: CodeExample, row: int) -> bool:
    lines = example.source.splitlines()
    return 0 < row <= len(lines) and lines[row - 1].lstrip().startswith("#> ")


def _write(found: list[CodeExample], folder: Path) -> dict[str, CodeExample]:
    """Each example in a file of its own in `folder`; ruff is then handed the files by name, so
    that its `exclude` settings cannot skip them (a TMPDIR under .nox/, say)."""
    by_file = {}
    for number, example in enumerate(found):
        name = f"example_{number:03d}.py"
        (folder / name).write_text(_for_ruff(example.source), encoding="utf-8")
        by_file[name] = example
    return by_file


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_ruff_bin(), *args], capture_output=True, text=True, check=False, cwd=ROOT
    )


def lint(found: list[CodeExample] | None = None) -> list[str]:
    """Every ruff finding and unformatted example, as `docs/page.md:LINE:COL: message`."""
    found = examples() if found is None else found
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        by_file = _write(found, Path(tmp))
        files = [str(Path(tmp) / name) for name in by_file]
        check = _ruff(
            "check", "--output-format=json", "--no-cache", *CONFIG, *EXAMPLE_RULES, *files
        )
        for finding in json.loads(check.stdout or "[]"):
            example = by_file[Path(finding["filename"]).name]
            if finding["code"] == "E501" and _is_output(example, finding["location"]["row"]):
                continue  # a `#>` line is as long as what the example prints: it wraps
            line = example.start_line + finding["location"]["row"]
            where = f"{example.path.relative_to(ROOT)}:{line}:{finding['location']['column']}"
            problems.append(f"{where}: {finding['code']} {finding['message']}")
        unformatted = _ruff("format", "--check", *CONFIG, *EXAMPLE_RULES, *files).stdout
        for name in re.findall(r"^Would reformat: .*?(example_\d+\.py)$", unformatted, re.M):
            example = by_file[name]
            diff = _from_ruff(
                _ruff("format", "--diff", *CONFIG, *EXAMPLE_RULES, str(Path(tmp) / name)).stdout
            )
            where = f"{example.path.relative_to(ROOT)}:{example.start_line + 1}"
            problems.append(f"{where}: not formatted, run `nox -s update`:\n{indent(diff, '    ')}")
    return sorted(problems)


def fix(found: list[CodeExample] | None = None) -> int:
    """Apply ruff's fixes and formatting to every example, in place. Returns blocks changed."""
    found = examples() if found is None else found
    changed: dict[Path, list[tuple[CodeExample, str]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        by_file = _write(found, Path(tmp))
        files = [str(Path(tmp) / name) for name in by_file]
        _ruff("check", "--fix", "--no-cache", *CONFIG, *EXAMPLE_RULES, *files)
        _ruff("format", *CONFIG, *EXAMPLE_RULES, *files)
        for name, example in by_file.items():
            new = _from_ruff((Path(tmp) / name).read_text(encoding="utf-8"))
            if new != example.source:
                changed[example.path].append((example, new))
    for page, edits in changed.items():
        text = page.read_text(encoding="utf-8")
        for example, new in sorted(edits, key=lambda e: e[0].start_index, reverse=True):
            text = (
                text[: example.start_index]
                + indent(new, " " * example.indent)
                + text[example.end_index :]
            )
        page.write_text(text, encoding="utf-8")
    return sum(len(edits) for edits in changed.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lint the docs' Python examples with ruff.")
    parser.add_argument("--fix", action="store_true", help="fix and format them in place")
    args = parser.parse_args(argv)
    if args.fix:
        print(f"rewrote {fix()} example(s)")
    problems = lint()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
