"""Each page renders as its Markdown says: what the source-level tests check is what readers see.

A fence pymdownx does not parse still passes every Markdown-level test, while the built page
shows a paragraph of raw code and pairs the fences after it wrongly. So, on every built page:

- each fenced block of the Markdown is exactly one code block, in order, with its language,
  its title, and the code (includes expanded) that the copy button copies;
- no raw fence, fence setting or include marker shows in the text a reader sees;
- every Markdown heading is a heading of the same level and text, with its anchor.

Failures name `docs/<page>.md:<line>`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import markdown
import pytest
import yaml

from ..docs_blocks import DOCS, FENCE_INFO, ROOT, Block, blocks, pages, shown_blocks
from .built_site import built_site
from .rendered import CodeBox, RenderedPage, html_file, rendered, rendered_file

# What only unparsed Markdown shows: fences, fence settings, include lines or section markers.
RAW_MARKUP = re.compile(r"```|~~~|\{\s*(?:mock|title)=|--8<--")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
# attr_list's `{#id .class key=value}` at the end of a heading: not displayed.
_ATTRIBUTES = re.compile(r"[ \t]*\{:?[ \t]*[#.][^}]*\}$")


def fence_problems(page: Path, source: str, shown: RenderedPage) -> list[str]:
    """Where the fenced blocks of `source` (the Markdown of `page`) and the code boxes of the
    built page part, as `docs/<page>.md:<line>: ...`. Stops at the first mismatch: the boxes
    after a broken fence pair up wrongly anyway."""
    fenced = shown_blocks(page, source)
    for block in fenced:
        if not FENCE_INFO.fullmatch(block.info.strip()):
            return [
                f"{block.where}: fence settings must all sit in one pair of braces after the "
                f'language, like ```json {{title="HTTP 404 Not Found" mock="unknown-prompt"}}; '
                f"got ```{block.info.strip()}"
            ]
    for number, block in enumerate(fenced):
        if number >= len(shown.code_boxes):
            return [f"{block.where}: this fence is not a code block on the built page"]
        problem = _box_problem(block, shown.code_boxes[number])
        if problem:
            return [f"{block.where}: {problem}"]
    if len(shown.code_boxes) > len(fenced):
        extra = shown.code_boxes[len(fenced)].copied.splitlines()[:1]
        return [
            f"{page.relative_to(ROOT)}: the built page has {len(shown.code_boxes)} code blocks "
            f"but the Markdown (with its includes) {len(fenced)} fences; the first extra one "
            f"starts {extra}"
        ]
    return []


def _box_problem(block: Block, box: CodeBox) -> str | None:
    if block.lang and box.lang != block.lang:
        return f"renders as a {box.lang or 'plain'} block, not {block.lang}"
    if box.title != block.settings.get("title"):
        return f"renders with the title {box.title!r}, not {block.settings.get('title')!r}"
    expected = block.shown.strip("\n").rstrip()
    if box.copied.lstrip("\n") != expected:
        first = next(
            (
                f"line {n}: {a!r} on the page, {b!r} in the source"
                for n, (a, b) in enumerate(
                    zip(box.copied.lstrip("\n").splitlines(), expected.splitlines(), strict=False),
                    start=1,
                )
                if a != b
            ),
            "a different number of lines",
        )
        return f"the built page shows other code than the Markdown ({first})"
    return None


def raw_markup_problems(page: Path, source: str, shown: RenderedPage) -> list[str]:
    """Fences, settings or include lines that reach the reader as text. Inline code that the
    Markdown writes on purpose (`--8<--` explained on the contributing page) is allowed."""
    prose = "\n".join(line for _, line in _outside_fences(page, source))
    meant = {_squeeze(m[2]) for m in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", prose, re.S)}
    leaks = [text for text in shown.prose if RAW_MARKUP.search(text)]
    leaks += [c for c in shown.inline_code if RAW_MARKUP.search(c) and _squeeze(c) not in meant]
    return [
        f"{_line_of(page, source, text)}: raw Markdown on the page: {text[:80]!r}" for text in leaks
    ]


def escaped_pipe_problems(page: Path, source: str, shown: RenderedPage) -> list[str]:
    """Inline code showing `\\|`: in a table cell, Markdown keeps the backslash of an escaped
    pipe inside backticks, so a reader copies `env \\| grep`, which the shell runs as `env`
    with the argument `|`. In a cell, write the command as `<code>env &#124; grep</code>`."""
    return [
        f"{_line_of(page, source, code)}: inline code shows a "
        f"backslash before a pipe: {code[:80]!r} (in a table, write <code>...&#124;...</code>)"
        for code in shown.inline_code
        if "\\|" in code
    ]


def heading_problems(page: Path, source: str, shown: RenderedPage) -> list[str]:
    """Every Markdown heading must be a heading, in order, of its level and text, with an id of
    its own (a link to a shared one lands on the first) and a permalink to it."""
    problems = []
    remaining = list(shown.headings)
    ids = Counter(h.id for h in shown.headings)
    for line, level, text in _markdown_headings(page, source):
        where = f"{page.relative_to(ROOT)}:{line}"
        found = next(
            (i for i, h in enumerate(remaining) if h.level == level and h.text == text), None
        )
        if found is None:
            problems.append(f"{where}: heading {text!r} (h{level}) is not a heading on the page")
            continue
        heading = remaining[found]
        del remaining[: found + 1]
        if not heading.id or not heading.has_permalink:
            problems.append(f"{where}: heading {text!r} has no anchor to link to")
        elif ids[heading.id] > 1:
            problems.append(f"{where}: heading {text!r} shares its id {heading.id!r}")
    return problems


def _outside_fences(page: Path, source: str) -> list[tuple[int, str]]:
    """(line number, line) of every Markdown line that is not part of a fenced block."""
    fenced: set[int] = set()
    for block in blocks(page, source):
        fenced.update(range(block.line, block.line + block.body.count("\n") + 2))
    return [(n, line) for n, line in enumerate(source.splitlines(), start=1) if n not in fenced]


def _markdown_headings(page: Path, source: str) -> list[tuple[int, int, str]]:
    """(line, level, displayed text) of each ATX heading outside fenced blocks."""
    return [
        (number, len(match["hashes"]), _displayed(_ATTRIBUTES.sub("", match["text"])))
        for number, line in _outside_fences(page, source)
        if (match := _HEADING.match(line))
    ]


def _displayed(text: str) -> str:
    """Heading Markdown as it displays: no backticks, emphasis marks or link targets. Code
    shows as written: `AsyncClient.__init__()` keeps its underscores."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    pieces = re.split(r"(`[^`]+`)", text)
    return "".join(
        piece[1:-1] if piece.startswith("`") else re.sub(r"`|\*\*|__", "", piece)
        for piece in pieces
    ).strip()


def test_a_heading_shows_its_code_as_written_and_its_emphasis_without_marks() -> None:
    assert _displayed("`AsyncClient.__init__()` got **no** __proxies__") == (
        "AsyncClient.__init__() got no proxies"
    )


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _line_of(page: Path, source: str, leak: str) -> str:
    first = next((part.strip() for part in leak.splitlines() if part.strip()), "")
    for number, line in enumerate(source.splitlines(), start=1):
        if first and first in line:
            return f"{page.relative_to(ROOT)}:{number}"
    return f"{page.relative_to(ROOT)}:1"


CHECKS = (fence_problems, raw_markup_problems, escaped_pipe_problems, heading_problems)


@pytest.mark.built_site
@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_renders_as_its_markdown_says(page: Path) -> None:
    source = page.read_text(encoding="utf-8")
    shown = rendered_file(html_file(built_site(), page))
    problems = [problem for check in CHECKS for problem in check(page, source, shown)]
    assert not problems, "\n".join(problems)


# -- the checks themselves, on Markdown rendered with the site's own extensions -----------------

_BROKEN = """# Errors

## The envelope

```json title="HTTP 404 Not Found" {mock="unknown-prompt"}
{"success": false}
```

Text between.

## `TIMEOUT_ERROR`

```python
print("hi")
```
"""


def _render_like_the_site(source: str) -> RenderedPage:
    """Markdown with the site's own extensions and settings, read from mkdocs.yml (loading the
    whole MkDocs configuration would load every plugin, for seconds)."""
    listed = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    extensions = listed["markdown_extensions"]
    names = [next(iter(e)) if isinstance(e, dict) else e for e in extensions]
    configs = {next(iter(e)): next(iter(e.values())) for e in extensions if isinstance(e, dict)}
    html = markdown.markdown(source, extensions=names, extension_configs=configs)
    return rendered(f"<article>{html}</article>")


def test_a_title_outside_the_braces_is_caught_at_its_line() -> None:
    page = DOCS / "api-errors.md"
    shown = _render_like_the_site(_BROKEN)
    problem = fence_problems(page, _BROKEN, shown)[0]
    assert problem.startswith("docs/api-errors.md:5: fence settings")


def test_a_fence_rendered_as_a_paragraph_is_caught_at_its_line() -> None:
    """Even if its syntax passed the fence check, the HTML check alone names the fence."""
    page = DOCS / "api-errors.md"
    shown = _render_like_the_site(_BROKEN)
    problems = raw_markup_problems(page, _BROKEN, shown) + heading_problems(page, _BROKEN, shown)
    assert "docs/api-errors.md:5: raw Markdown on the page" in problems[0]
    assert any(p.startswith("docs/api-errors.md:11: heading 'TIMEOUT_ERROR'") for p in problems)
    fixed = _BROKEN.replace(
        'json title="HTTP 404 Not Found" {mock=', 'json {title="HTTP 404 Not Found" mock='
    )
    shown = _render_like_the_site(fixed)
    assert [p for check in CHECKS for p in check(page, fixed, shown)] == []


def test_two_headings_with_one_id_are_caught() -> None:
    """`{#id}` keeps an anchor when a heading's words change; reused, both headings get it."""
    page = DOCS / "api-errors.md"
    source = "# Errors\n\n## `TIMEOUT_ERROR` {#timeout_error}\n\n## Timeouts {#timeout_error}\n"
    problems = heading_problems(page, source, _render_like_the_site(source))
    assert problems == [
        "docs/api-errors.md:3: heading 'TIMEOUT_ERROR' shares its id 'timeout_error'",
        "docs/api-errors.md:5: heading 'Timeouts' shares its id 'timeout_error'",
    ]
