"""The map check: no Python block in the docs goes unchecked, no snippet goes unshown, no
symptom goes unproven.

Every Python block is either run by `test_docs.py` (output checked) or an include of a snippet
that has its own test module; every terminal session (```console) is run by `test_console.py`;
every JSON block names the mock scenario that produces it, or shows a JSON Schema that a test
validates output against; every example module under `snippets/<page>/` is included by some
page.

A symptom section is a heading of a guide page that starts with the text a reader sees, in
code: ### `NETWORK_ERROR: Could not reach ...`. Its proof is a checked block in it whose output
shows that text, then more: the symptom reproduced against the mock, then the fix at work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from snippets import generate
from snippets.generate import stale_files

from .console import Unsupported, check_supported, commands, scripts, unregistered
from .docs_blocks import (
    DOCS,
    OUTPUT_LINE,
    PYTHON_LANGS,
    ROOT,
    Block,
    Include,
    blocks,
    includes,
    page_snippet_modules,
    pages,
    snippet_test_path,
)
from .scenarios import scenario_of_block
from .test_docs import RUNNABLE

# Languages that are not run, and why: they are shown, not executed against the API.
EXEMPT_LANGS = {
    "bash": "shell commands for the reader's terminal (a session the harness runs: console)",
    "text": "plain output or prose",
    "toml": "configuration files",
    "yaml": "configuration, or the API contract (tests/mock_api/test_contract.py checks the mock)",
    "": "plain text",
}


def how_checked(block: Block) -> tuple[str, str]:
    """(kind, how) the harness checks `block`, or raise AssertionError naming its line.

    kind is "run", "include", "json" or "exempt".
    """
    if block.lang in PYTHON_LANGS:
        if block.is_include_only:
            shown = []
            for include in block.includes:
                snippet = include.path.relative_to(ROOT)
                assert include.path.exists(), f"{block.where}: includes missing {snippet}"
                test = snippet_test_path(include.path)
                assert test.exists(), (
                    f"{block.where}: includes {snippet}, which has no test module "
                    f"{test.relative_to(ROOT)}"
                )
                module = ".".join(snippet.with_suffix("").parts)
                assert module in test.read_text("utf-8"), (
                    f"{block.where}: {test.relative_to(ROOT)} does not import {module}"
                )
                shown.append(f"include of {snippet}, tested by {test.relative_to(ROOT)}")
            return "include", "; ".join(shown)
        run = any(ex.path == block.page and ex.start_line == block.line for ex in RUNNABLE)
        assert run, f"{block.where}: Python block that the harness does not run"
        return "run", "run, output checked"
    if block.lang == "console":
        try:
            for command in commands(block):
                check_supported(command)
        except Unsupported as exc:
            raise AssertionError(f"{block.where}: {exc}") from None
        return "run", "terminal session, run, output checked"
    if block.lang == "json" and block.is_include_only:
        return "include", "; ".join(_shown_schema(block, include) for include in block.includes)
    if block.lang == "json":
        scenario = block.settings.get("mock")
        assert scenario, f"{block.where}: json block without a mock=... scenario"
        scenario_of_block(scenario, block.where)
        return "json", f"response body checked against the mock ({scenario})"
    assert block.lang in EXEMPT_LANGS, (
        f"{block.where}: {block.lang!r} block: run it, or add its language to EXEMPT_LANGS "
        "with a reason"
    )
    return "exempt", f"not run: {EXEMPT_LANGS[block.lang]}"


def _shown_schema(block: Block, include: Include) -> str:
    """A json block that shows a file shows a JSON Schema (the check tools' `--json`): it must
    parse, and a test must validate output against it."""
    schema = include.path.relative_to(ROOT)
    assert include.path.name.endswith(".schema.json"), (
        f"{block.where}: a json block may include a JSON Schema (*.schema.json), not {schema}"
    )
    json.loads(include.path.read_text("utf-8"))
    users = sorted(
        path.relative_to(ROOT)
        for path in (ROOT / "tests").rglob("test_*.py")
        if str(schema) in path.read_text("utf-8")
    )
    assert users, f"{block.where}: shows {schema}, which no test validates output against"
    return f"include of {schema}, validated against by {', '.join(map(str, users))}"


# -- symptoms and their proofs ------------------------------------------------------------

_HEADING = re.compile(r"^(?P<level>#{2,4}) +`(?P<symptom>[^`]+)`")


@dataclass(frozen=True)
class Symptom:
    """A section of a guide page whose heading starts with what the reader sees."""

    page: Path
    line: int
    text: str  # the heading's first code span
    blocks: tuple[Block, ...]  # every block of the section, its subsections' included

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def guide_pages() -> list[Path]:
    """The pages a reader with a problem reads: not the reference, not contributing."""
    return [
        p
        for p in pages()
        if "reference" not in p.relative_to(DOCS).parts and p.stem != "contributing"
    ]


def symptoms(page: Path, text: str | None = None) -> list[Symptom]:
    """The symptom sections of `page` (of `text`, if given, as if it were the page's)."""
    text = page.read_text("utf-8") if text is None else text
    lines = text.splitlines()
    fenced = {n for b in blocks(page, text) for n in range(b.line, b.line + b.body.count("\n") + 2)}
    headings = [
        (n, len(line) - len(line.lstrip("#")), line)
        for n, line in enumerate(lines, start=1)
        if line.startswith("#") and n not in fenced
    ]
    found = []
    for index, (number, level, line) in enumerate(headings):
        match = _HEADING.match(line)
        if not match:
            continue
        end = next((n for n, lv, _ in headings[index + 1 :] if lv <= level), len(lines) + 1)
        inside = tuple(b for b in blocks(page, text) if number < b.line < end)
        found.append(Symptom(page, number, match["symptom"], inside))
    return found


def shown_output(block: Block) -> list[str]:
    """What a checked block shows its code printing: `#>` lines, or a session's output."""
    if block.lang == "console":
        return [line for command in commands(block) for line in command.shown]
    if block.lang in PYTHON_LANGS and not block.is_include_only:
        return [m["text"] for m in OUTPUT_LINE.finditer(block.body)]
    return []


def proof(symptom: Symptom) -> Block | None:
    """The section's first checked block that prints the symptom's text and then more."""
    for block in symptom.blocks:
        output = shown_output(block)
        shown = [n for n, line in enumerate(output) if symptom.text in line]
        if shown and shown[-1] < len(output) - 1:
            return block
    return None


def live_kind(block: Block) -> str:
    """ "live" for a Python block that runs against any API keeping the contract (it names no
    mock scenario: `nox -s live` runs it), "mock" for one that needs a state of the mock API
    (`mock="..."`; `off`: it brings its own mock)."""
    return "mock" if "mock" in block.settings else "live"


def test_the_map_counts_live_blocks_and_blocks_that_need_the_mock() -> None:
    page = ROOT / "docs/faq.md"
    text = '```python\nprint(1)\n```\n\n```python {mock="rate-limited"}\nprint(2)\n```\n'
    assert [live_kind(block) for block in blocks(page, text)] == ["live", "mock"]
    header = map_report().splitlines()[0]
    assert "Python: any API (live)" in header and "Python: needs the mock" in header


def docs_map() -> list[tuple[str, str]]:
    return [(block.where, how_checked(block)[1]) for page in pages() for block in blocks(page)]


def map_report() -> str:
    """The table `nox -s docs` prints: per page, how many blocks are checked in which way."""
    kinds = (
        *("run", "include", "json", "exempt", "UNCHECKED", "symptoms", "proved"),
        *("live", "mock"),
    )
    counts: dict[str, dict[str, int]] = {}
    problems = []
    guide = set(guide_pages())
    for page in pages():
        row = counts.setdefault(str(page.relative_to(ROOT)), dict.fromkeys(kinds, 0))
        for block in blocks(page):
            try:
                kind, _ = how_checked(block)
            except AssertionError as exc:
                kind = "UNCHECKED"
                problems.append(str(exc))
            row[kind] += 1
            if block.lang in PYTHON_LANGS:
                row[live_kind(block)] += 1
        for symptom in symptoms(page) if page in guide else []:
            row["symptoms"] += 1
            if proof(symptom) is None:
                problems.append(f"{symptom.where}: symptom `{symptom.text}` has no proof")
            else:
                row["proved"] += 1
    totals = {kind: sum(row[kind] for row in counts.values()) for kind in kinds}
    header = (
        "page",
        "run + output checked",
        "include of a tested snippet",
        "json vs mock",
        "exempt (not run)",
        "UNCHECKED",
        "symptom sections",
        "with a proof",
        "Python: any API (live)",
        "Python: needs the mock",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in [*counts.items(), ("total", totals)]:
        lines.append("| " + " | ".join([name, *(str(row[k]) for k in kinds)]) + " |")
    return "\n".join([*lines, *problems])


def test_every_block_is_checked_or_exempt_with_a_reason() -> None:
    rows = docs_map()
    assert any("run, output checked" in how for _, how in rows)


@pytest.mark.parametrize("page", guide_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_symptom_section_has_a_proof(page: Path) -> None:
    """The section reproduces what the reader sees against the mock, then shows it gone."""
    unproven = [
        f"{s.where}: `{s.text}`: no checked block in the section prints it, then more"
        for s in symptoms(page)
        if proof(s) is None
    ]
    assert not unproven, "\n".join(unproven)


def test_a_proof_prints_the_symptom_then_its_fix() -> None:
    page = ROOT / "docs/index.md"
    text = (
        "## `NETWORK_ERROR: Could not reach`\n\n"
        "```python\nprint(1)\n#> NETWORK_ERROR: Could not reach x\n#> fixed\n```\n\n"
        "## `RATE_LIMIT_ERROR`\n\n```python\nprint(1)\n#> RATE_LIMIT_ERROR\n```\n\n"
        "## `TIMEOUT_ERROR`\n\n```console\n$ promptops-doctor --mock\nTIMEOUT_ERROR\nok\n```\n"
    )
    found = {s.text: proof(s) is not None for s in symptoms(page, text)}
    assert found == {
        "NETWORK_ERROR: Could not reach": True,
        "RATE_LIMIT_ERROR": False,  # the symptom, and nothing after it
        "TIMEOUT_ERROR": True,
    }


def test_every_snippet_is_included_by_a_page() -> None:
    included = {inc.path for page in pages() for inc in includes(page)}
    unshown = [s.relative_to(ROOT) for s in page_snippet_modules() if s not in included]
    assert not unshown, f"snippets no page includes: {unshown}"


def test_every_snippet_has_its_test_module() -> None:
    missing = [
        f"{s.relative_to(ROOT)} -> {snippet_test_path(s).relative_to(ROOT)}"
        for s in page_snippet_modules()
        if not snippet_test_path(s).exists()
    ]
    assert not missing, f"snippets without tests: {missing}"


def test_every_package_outside_the_page_folders_is_in_the_api_reference_and_tested() -> None:
    """The client, the mock and the doctor are too long to show whole on a page: the API
    reference documents them (mkdocstrings, `::: snippets.<package>...`), and each has a test
    folder of its own."""
    reference = "\n".join(p.read_text("utf-8") for p in (ROOT / "docs/reference").glob("*.md"))
    packages = [  # not a page's folder (snippets/<page>/, see page_snippet_modules)
        folder.name
        for folder in (ROOT / "snippets").iterdir()
        if (folder / "__init__.py").exists()
        and not (ROOT / "docs" / f"{folder.name.replace('_', '-')}.md").exists()
    ]
    assert {"client", "mock_api", "doctor"} <= set(packages)
    undocumented = [p for p in packages if f"::: snippets.{p}." not in reference]
    untested = [p for p in packages if not list((ROOT / "tests" / p).glob("test_*.py"))]
    assert not undocumented, f"not in docs/reference: {undocumented}"
    assert not untested, f"no tests/<package>/test_*.py: {untested}"


def test_generated_includes_are_up_to_date() -> None:
    problems = []
    for path in stale_files():
        fresh = generate.fresh(path).splitlines()
        old = path.read_text("utf-8").splitlines() if path.exists() else []
        line = next((i for i, (a, b) in enumerate(zip(old, fresh, strict=False)) if a != b), None)
        line = min(len(old), len(fresh)) if line is None else line
        problems.append(f"{path.relative_to(ROOT)}:{line + 1}: out of date with its source")
    assert not problems, "\n".join([*problems, "regenerate with: nox -s generate"])


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_includes_resolve(page: Path) -> None:
    for include in includes(page):
        assert include.path.exists(), f"{page.relative_to(ROOT)}: missing include {include.path}"
        if include.section:
            text = include.path.read_text("utf-8")
            assert f"[start:{include.section}]" in text, f"no section {include.section!r}"


# The bugs of the guide this site replaced (one long page whose snippets were broken in small
# ways). Each pattern is how it looked; none may come back.
SEED_BUGS = {
    "aiohttp": "the project uses httpx",
    "datetime.utcnow(": "naive UTC timestamps; use datetime.now(UTC)",
    "avg_duration']": "the profiler's KeyError (the key is mean_ms)",
    "from promptops import": "imports of a package that does not exist here",
}


@pytest.mark.parametrize("pattern", SEED_BUGS, ids=list(SEED_BUGS))
def test_seed_bugs_stay_gone(pattern: str) -> None:
    files = [*pages(), *(ROOT / "snippets").rglob("*.py")]
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if pattern in line
    ]
    assert not hits, f"{SEED_BUGS[pattern]}: {hits}"


def test_included_markdown_shows_no_code_the_harness_skips() -> None:
    """docs/includes/*.md are pasted into pages, where their blocks are shown but not run:
    they may hold shell commands or text, not Python or JSON."""
    unchecked = [
        f"{block.where}: {block.lang} block"
        for path in sorted((ROOT / "docs/includes").glob("*.md"))
        for block in blocks(path)
        if block.lang not in EXEMPT_LANGS
    ]
    assert not unchecked, unchecked


def test_a_json_block_may_show_a_json_schema_that_a_test_uses_and_nothing_else() -> None:
    page = ROOT / "docs/reference/doctor.md"
    (schema,) = blocks(page, '```json\n--8<-- "docs/reference/report.schema.json"\n```\n')
    kind, how = how_checked(schema)
    assert kind == "include" and "tests/test_report_schema.py" in how
    (other,) = blocks(page, '```json\n--8<-- "pyproject.toml"\n```\n')
    with pytest.raises(AssertionError, match=r"may include a JSON Schema \(\*\.schema\.json\)"):
        how_checked(other)


# -- what a new page adds: each page in the nav, each tool's script registered -----------------

_NAV_ENTRY = re.compile(r"^(?P<indent> +)- (?:[^:\n]+: )?(?P<path>[\w/.-]+\.md)$")


def nav_line_to_add(page: Path, mkdocs: str) -> str | None:
    """None if `page` is in the nav of `mkdocs` (mkdocs.yml's text); else where to add it and
    the line: after the first run of entries of its folder (the guide pages, before
    "Reference"), titled with its heading."""
    relative = page.relative_to(DOCS).as_posix()
    entries = [
        (number, match)
        for number, line in enumerate(mkdocs.splitlines(), start=1)
        if (match := _NAV_ENTRY.match(line))
    ]
    if any(match["path"] == relative for _, match in entries):
        return None
    folder = str(Path(relative).parent)
    run: list[tuple[int, re.Match[str]]] = []
    for number, match in entries:
        if str(Path(match["path"]).parent) == folder and (not run or run[-1][0] == number - 1):
            run.append((number, match))
    after, previous = run[-1] if run else entries[-1]
    heading = re.search(r"^# +(.+)$", page.read_text("utf-8"), re.M)
    title = heading[1].replace("`", "").strip() if heading else page.stem.replace("-", " ")
    return (
        f"{page.relative_to(ROOT)} is not in the nav: add it to mkdocs.yml after line {after} "
        f"(`{previous[0].strip()}`):\n{previous['indent']}- {title}: {relative}"
    )


def test_every_page_is_in_the_nav() -> None:
    """The nav is the one list of pages (llms.txt takes its list from it); the strict build
    fails on a page left out, this names the line to add."""
    mkdocs = (ROOT / "mkdocs.yml").read_text("utf-8")
    missing = [line for page in pages() if (line := nav_line_to_add(page, mkdocs))]
    assert not missing, "\n".join(missing)


def test_a_page_left_out_of_the_nav_is_named_with_its_line() -> None:
    """After the guide's pages (the first run of entries of its folder), under its heading."""
    mkdocs = (
        "nav:\n"
        "  - Overview: index.md\n"
        "  - Debugging: debugging.md\n"
        "  - Reference:\n"
        "      - API contract: reference/api-contract.md\n"
        "  - Contributing: contributing.md\n"
    )
    assert nav_line_to_add(ROOT / "docs/debugging.md", mkdocs) is None
    assert nav_line_to_add(ROOT / "docs/faq.md", mkdocs) == (
        "docs/faq.md is not in the nav: add it to mkdocs.yml after line 3 "
        "(`- Debugging: debugging.md`):\n  - FAQ: faq.md"
    )
    assert nav_line_to_add(ROOT / "docs/reference/doctor.md", mkdocs) == (
        "docs/reference/doctor.md is not in the nav: add it to mkdocs.yml after line 5 "
        "(`- API contract: reference/api-contract.md`):\n"
        "      - promptops-doctor: reference/doctor.md"
    )


def test_every_tool_with_a_main_is_a_script() -> None:
    """A page tool's `main(argv)` is what `promptops-<tool>` runs: `[project.scripts]` is the
    one place scripts are registered (the install section, the help and the hostile runs read
    it). The failure names the line to add."""
    registered = {target.partition(":")[0] for target in scripts().values()}
    unregistered_tools = [
        unregistered("promptops-" + module.stem.replace("_", "-"))
        for module in page_snippet_modules()
        if re.search(r"^def main\(", module.read_text("utf-8"), re.M)
        and ".".join(module.relative_to(ROOT).with_suffix("").parts) not in registered
    ]
    assert not unregistered_tools, "\n".join(unregistered_tools)
