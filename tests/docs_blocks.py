"""Read the fenced blocks and `--8<--` includes of the docs, for the harness and the map check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"

PYTHON_LANGS = {"py", "python", "python3", "pycon"}

_FENCE = re.compile(
    r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ ]*$",
    re.M | re.S,
)
_SETTING = re.compile(r"""([\w-]+)=(["'])(.*?)\2""")
_INCLUDE = re.compile(r"""^[ ]*--8<--[ ]+(["'])(?P<target>[^"']+)\1[ ]*$""", re.M)
# A line of output under the code that printed it: `#> text`.
OUTPUT_LINE = re.compile(r"^ *#> ?(?P<text>.*)$", re.M)
# `# --8<-- [start:name]` / `[end:name]` in a snippet file: where a shown section begins and ends.
_SECTION_MARKER = re.compile(r"^.*--8<--[ \t]*\[[ \t]*(?P<kind>start|end)[ \t]*:(?P<name>[\w-]+)\]")
# The one fence syntax every tool reads (pymdownx, Pygments, pytest-examples, this harness):
# the language, then optionally every setting inside one pair of braces:
#     ```python {title="snippets/x.py"}
#     ```json {title="HTTP 404 Not Found" mock="unknown-prompt"}
# A title outside the braces next to settings inside them renders as a paragraph, not code.
_SETTINGS = r"""[\w-]+="[^"]*"(?: [\w-]+="[^"]*")*"""
FENCE_INFO = re.compile(rf"(?P<lang>[a-z0-9]*)(?: \{{{_SETTINGS}\}})?")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a docs page."""

    page: Path
    line: int  # 1-based line of the opening fence
    info: str  # what follows the opening fence: language and settings
    lang: str
    settings: dict[str, str]
    body: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def includes(self) -> list[Include]:
        return [Include.parse(m["target"]) for m in _INCLUDE.finditer(self.body)]

    @property
    def shown(self) -> str:
        """The code a reader should see: the body, each `--8<--` line replaced by what it names."""
        return _INCLUDE.sub(lambda m: Include.parse(m["target"]).text().rstrip("\n"), self.body)

    @property
    def is_include_only(self) -> bool:
        return is_include_only(self.body)


@dataclass(frozen=True)
class Include:
    path: Path
    section: str | None

    @classmethod
    def parse(cls, target: str) -> Include:
        file, _, section = target.partition(":")
        return cls(ROOT / file, section or None)

    def text(self) -> str:
        """What pymdownx.snippets inserts: the section's lines, or the whole file, without the
        section markers."""
        lines, inside = [], self.section is None
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            marker = _SECTION_MARKER.match(line)
            if marker is None:
                if inside:
                    lines.append(line)
            elif self.section is not None and marker["name"] == self.section:
                inside = marker["kind"] == "start"
        return "".join(lines)


def is_include_only(code: str) -> bool:
    """The code is only `--8<--` lines: it shows files, it has no code of its own to run (the
    files have their own tests)."""
    return bool(_INCLUDE.search(code)) and not _INCLUDE.sub("", code).strip()


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "includes" not in p.relative_to(DOCS).parts)


def blocks(page: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of `page` (of `text`, if given, as if it were that page's Markdown)."""
    text = page.read_text(encoding="utf-8") if text is None else text
    found = []
    for match in _FENCE.finditer(text):
        info = match["info"].strip()
        lang = info.split(None, 1)[0].strip("{}").lstrip(".").lower() if info else ""
        settings = {m[1]: m[3] for m in _SETTING.finditer(info)}
        body = re.sub(rf"^{match['indent']}", "", match["body"], flags=re.M)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, info, lang, settings, body))
    return found


def shown_blocks(page: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks a reader sees on `page`, in order: its own, and those of the Markdown
    files it includes (`--8<-- "docs/includes/x.md"` outside a fence), at their place."""
    text = page.read_text(encoding="utf-8") if text is None else text
    own = blocks(page, text)
    fenced = {n for b in own for n in range(b.line, b.line + b.body.count("\n") + 2)}
    placed = [(block.line, 0, block) for block in own]
    for number, line in enumerate(text.splitlines(), start=1):
        match = _INCLUDE.match(line)
        if match and number not in fenced and match["target"].endswith(".md"):
            included = Include.parse(match["target"]).path
            placed += [(number, index, b) for index, b in enumerate(blocks(included), start=1)]
    return [block for _, _, block in sorted(placed, key=lambda p: (p[0], p[1]))]


def includes(page: Path) -> list[Include]:
    """Every `--8<--` include on a page, inside code blocks or not."""
    return [Include.parse(m["target"]) for m in _INCLUDE.finditer(page.read_text("utf-8"))]


def page_snippet_modules() -> list[Path]:
    """The example modules: `snippets/<page>/*.py`, one folder per docs page."""
    return sorted(
        path
        for folder in SNIPPETS.iterdir()
        if folder.is_dir() and (DOCS / f"{folder.name.replace('_', '-')}.md").exists()
        for path in folder.glob("*.py")
        if path.name != "__init__.py"
    )


def snippet_test_path(snippet: Path) -> Path:
    """Where the tests of `snippets/<page>/<tool>.py` live: `tests/<page>/test_<tool>.py`."""
    return ROOT / "tests" / snippet.parent.name / f"test_{snippet.name}"
