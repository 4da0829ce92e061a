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


@dataclass(frozen=True)
class Block:
    """One fenced code block of a docs page."""

    page: Path
    line: int  # 1-based line of the opening fence
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
    def is_include_only(self) -> bool:
        """The block's whole body is `--8<--` lines: it shows files, it has no code of its own."""
        return bool(self.includes) and not _INCLUDE.sub("", self.body).strip()


@dataclass(frozen=True)
class Include:
    path: Path
    section: str | None

    @classmethod
    def parse(cls, target: str) -> Include:
        file, _, section = target.partition(":")
        return cls(ROOT / file, section or None)


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "includes" not in p.relative_to(DOCS).parts)


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        info = match["info"].strip()
        lang = info.split(None, 1)[0].strip("{}").lstrip(".").lower() if info else ""
        settings = {m[1]: m[3] for m in _SETTING.finditer(info)}
        body = re.sub(rf"^{match['indent']}", "", match["body"], flags=re.M)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, lang, settings, body))
    return found


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
