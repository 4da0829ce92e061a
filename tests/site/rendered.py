"""A built page as a reader meets it: its code boxes (with what their copy button copies), its
headings and the text around them, read from the HTML that MkDocs wrote.

Only the page's own Markdown is read: the theme's navigation and the API reference that
mkdocstrings renders from docstrings (`div.doc`) are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from ..docs_blocks import DOCS, OUTPUT_LINE, PYTHON_LANGS, Block, pages, shown_blocks


@dataclass(frozen=True)
class CodeBox:
    """One code block on a built page."""

    lang: str  # from Pygments' `language-*` class; "" if it has none
    title: str | None  # the file name bar, if any
    copied: str  # what the copy button puts on the clipboard


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # as displayed, without the permalink sign
    id: str | None
    has_permalink: bool


@dataclass(frozen=True)
class RenderedPage:
    code_boxes: list[CodeBox]
    headings: list[Heading]
    prose: list[str]  # text a reader sees outside code boxes and inline code, per element
    inline_code: list[str]  # the text of each inline `code` element


def html_file(site: Path, page: Path) -> Path:
    """Where MkDocs writes `docs/<page>.md`: `<site>/<page>/index.html` (use_directory_urls)."""
    relative = page.relative_to(DOCS).with_suffix("")
    return site / ("index.html" if relative.name == "index" else relative / "index.html")


@cache
def rendered_file(path: Path) -> RenderedPage:
    return rendered(path.read_text(encoding="utf-8"))


def rendered(html: str) -> RenderedPage:
    """Read a built page's HTML: the `<article>` (the whole text if it has none)."""
    reader = _PageReader(whole=bool("<article" not in html))
    reader.feed(html)
    reader.close()
    return RenderedPage(reader.code_boxes, reader.headings, reader.prose, reader.inline_code)


# Elements without an end tag: never on the stack of open elements.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


# The classes `_inside` is asked about.
_LOOKED_UP = {("div", "doc"), ("span", "md-annotation")}


def _keys(tag: str, classes: list[str]) -> list[str]:
    return [tag] + [f"{tag}.{c}" for c in classes if (tag, c) in _LOOKED_UP]


class _PageReader(HTMLParser):
    """One pass over the page, keeping the stack of open elements (a tree, with lookups of
    each text's parents, costs seconds per page in pure Python).

    A code box's copy text is what Material's copy button copies: the code element's
    `innerText` with its annotations hidden (`.md-annotation`), trailing whitespace trimmed. The
    browser session checks this against the real button.
    """

    def __init__(self, *, whole: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.code_boxes: list[CodeBox] = []
        self.headings: list[Heading] = []
        self.prose: list[str] = []
        self.inline_code: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        # How many of each are open: `tag`, and `tag.class` for the classes looked up below.
        self._count: Counter[str] = Counter()
        if whole:
            self._push("article", [])
        self._box: tuple[int, str] | None = None  # (depth, language) of the open code box
        self._title: list[str] | None = None  # text of the box's file name bar, being read
        self._code: list[str] | None = None  # text of the box's code element, being read
        self._boxed: dict[str, str] = {}  # what was read of the open box
        self._heading: tuple[int, str | None, list[str]] | None = None
        self._permalink = False
        self._inline: list[str] | None = None

    def _push(self, tag: str, classes: list[str]) -> None:
        self._open.append((tag, classes))
        self._count.update(_keys(tag, classes))

    def _pop(self) -> tuple[str, list[str]]:
        tag, classes = self._open.pop()
        self._count.subtract(_keys(tag, classes))
        return tag, classes

    def _inside(self, tag: str, css_class: str | None = None) -> bool:
        return self._count[f"{tag}.{css_class}" if css_class else tag] > 0

    def _reading(self) -> bool:
        """In the page's own content: the article, but not the API reference (`div.doc`)."""
        return self._inside("article") and not self._inside("div", "doc")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        self._push(tag, classes)
        if not self._reading():
            return
        if self._box is None and tag == "div" and "highlight" in classes:
            lang = next((c.removeprefix("language-") for c in classes if "language-" in c), "")
            self._box, self._boxed = (len(self._open), lang), {}
        elif self._box is not None and tag == "span" and "filename" in classes:
            self._title = []
        elif self._box is not None and tag == "code":
            self._code = []
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading, self._permalink = (int(tag[1]), attributes.get("id"), []), False
        elif self._heading and tag == "a" and "headerlink" in classes:
            self._permalink = attributes.get("href") == f"#{self._heading[1]}"
        elif tag == "code" and not self._inside("pre"):
            self._inline = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self._inside(tag):
            return
        while self._open:  # close what was left open inside it, as browsers do
            closed, classes = self._pop()
            if closed == tag:
                break
        if self._box is not None:
            if closed == "span" and self._title is not None and "filename" in classes:
                self._boxed["title"], self._title = "".join(self._title), None
            elif closed == "code" and self._code is not None:
                self._boxed["copied"], self._code = "".join(self._code).rstrip(), None
            elif closed == "div" and len(self._open) < self._box[0]:
                if "copied" in self._boxed:
                    title = self._boxed.get("title")
                    self.code_boxes.append(CodeBox(self._box[1], title, self._boxed["copied"]))
                self._box = None
        elif self._heading and closed == f"h{self._heading[0]}":
            level, anchor, texts = self._heading
            text = "".join(texts).removesuffix("¶").strip()
            self.headings.append(Heading(level, text, anchor, self._permalink))
            self._heading = None
        elif closed == "code" and self._inline is not None:
            self.inline_code.append("".join(self._inline))
            self._inline = None

    def handle_data(self, data: str) -> None:
        if not self._reading():
            return
        if self._title is not None:
            self._title.append(data)
        if self._code is not None and not self._inside("span", "md-annotation"):
            self._code.append(data)  # annotations are hidden while copying
        if self._heading is not None:
            self._heading[2].append(data)
        if self._inline is not None:
            self._inline.append(data)
        elif self._box is None and data.strip() and not self._in_code_or_script():
            self.prose.append(data)

    def _in_code_or_script(self) -> bool:
        return any(self._inside(tag) for tag in ("pre", "code", "script", "style"))


@dataclass(frozen=True)
class CopyableBlock:
    """A Python block as a reader copies it from the built site, with the Markdown it came from."""

    source: Block  # the fence in docs/<page>.md: its line and its mock scenario
    copied: str  # exactly what the copy button copies

    @property
    def where(self) -> str:
        return self.source.where

    @property
    def scenario(self) -> str:
        return self.source.settings.get("mock", "ok")

    @property
    def live(self) -> bool:
        """It runs against any API that keeps the contract (`nox -s live`): it names no mock
        scenario. A block with `mock="..."` needs that state of the mock API (`off`: it brings
        its own mock)."""
        return "mock" not in self.source.settings

    @property
    def printed(self) -> list[str]:
        """The output the page shows: the `#>` lines, in order."""
        return [m["text"] for m in OUTPUT_LINE.finditer(self.copied)]


def copyable_blocks(site: Path) -> list[CopyableBlock]:
    """Every Python block on every built page, paired with its fence (tests/site checks that
    fences and code boxes pair up one to one)."""
    found = []
    for page in pages():
        shown = rendered_file(html_file(site, page)).code_boxes
        for fence, box in zip(shown_blocks(page), shown, strict=True):
            if fence.lang in PYTHON_LANGS:
                found.append(CopyableBlock(fence, box.copied))
    return found
