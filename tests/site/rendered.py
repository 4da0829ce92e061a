"""A built page as a reader meets it, read from the HTML that MkDocs wrote: its code boxes (with
what their copy button copies), its headings and the text around them; and what it links to.

The code boxes, headings and text are the page's own Markdown only: the theme's navigation and
the API reference that mkdocstrings renders from docstrings (`div.doc`) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from snippets.scenarios import HEALTHY

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
    code_boxes: list[CodeBox] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)  # text a reader sees outside code, per node
    inline_code: list[str] = field(default_factory=list)  # the text of each inline `code`


def html_file(site: Path, page: Path) -> Path:
    """Where MkDocs writes `docs/<page>.md`: `<site>/<page>/index.html` (use_directory_urls)."""
    relative = page.relative_to(DOCS).with_suffix("")
    return site / ("index.html" if relative.name == "index" else relative / "index.html")


@dataclass(frozen=True)
class PageLinks:
    """A built page's ids, and its links in order, with where each heading falls among them."""

    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    headings: list[tuple[int, str, int]] = field(default_factory=list)  # level, id, links before

    def section_links(self, anchor: str) -> list[str] | None:
        """The links from the heading with id `anchor` to the next heading of its level or
        above; None without such a heading."""
        for n, (level, heading_id, first) in enumerate(self.headings):
            if heading_id == anchor:
                after = (start for lvl, _, start in self.headings[n + 1 :] if lvl <= level)
                return self.links[first : next(after, len(self.links))]
        return None


@dataclass(frozen=True)
class BuiltPage:
    rendered: RenderedPage
    links: PageLinks


@cache
def built_page(path: Path) -> BuiltPage:
    """A built page, parsed once for every test that reads it. Only what is read from it is
    kept, in plain strings: its tree, thousands of elements, is garbage once read."""
    soup = _soup(path.read_text(encoding="utf-8"))
    return BuiltPage(_read(soup), _links(soup))


def rendered_file(path: Path) -> RenderedPage:
    return built_page(path).rendered


def rendered(html: str) -> RenderedPage:
    """Read a built page's HTML."""
    return _read(_soup(html))


# Pygments wraps each token of a code block in a span that only colours it: more than half of a
# page's elements. Read as their text, which is all they hold, the page parses in under half
# the time, and no test reads them.
_TOKEN = re.compile(r'<span class="[a-z0-9]{1,3}">([^<]*)</span>')


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(_TOKEN.sub(r"\1", html), "html.parser")


def _read(page: BeautifulSoup) -> RenderedPage:
    """The `<article>` (the whole page if it has none)."""
    found = RenderedPage()
    _read_into(found, page.find("article") or page)
    return found


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _read_into(found: RenderedPage, element: Tag) -> None:
    """Add what `element` shows a reader, in order: its text, code boxes, inline code and
    headings."""
    for child in element.children:
        if type(child) is NavigableString:  # not a comment, not a script's text
            if child.strip():
                found.prose.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in ("pre", "script", "style"):
            continue
        classes = child.get_attribute_list("class")
        if child.name == "div" and "doc" in classes:
            continue  # the API reference, rendered from docstrings
        if child.name == "div" and "highlight" in classes:
            box = _code_box(child, classes)
            if box is not None:
                found.code_boxes.append(box)
        elif child.name == "code":
            found.inline_code.append(child.get_text())
        else:
            if child.name in HEADINGS:
                found.headings.append(_heading(child))
            _read_into(found, child)  # a heading's words are prose too


def _code_box(box: Tag, classes: list[str]) -> CodeBox | None:
    """A code box, and what Material's copy button copies from it: the code element's
    `innerText` with its annotations hidden (`.md-annotation`), trailing whitespace trimmed.
    The browser session checks this against the real button."""
    code = box.find("code")
    if code is None:
        return None
    lang = next((c.removeprefix("language-") for c in classes if "language-" in c), "")
    title = box.find("span", class_="filename")
    return CodeBox(
        lang,
        None if title is None else title.get_text(),
        _text(code, hidden="md-annotation").rstrip(),
    )


def _text(element: Tag, *, hidden: str) -> str:
    """The text of `element`, without that of its descendants of class `hidden`."""
    return "".join(
        _text(child, hidden=hidden) if isinstance(child, Tag) else str(child)
        for child in element.children
        if type(child) is NavigableString
        or (isinstance(child, Tag) and hidden not in child.get_attribute_list("class"))
    )


def _heading(heading: Tag) -> Heading:
    anchor = heading.get("id")
    permalinks = heading.find_all("a", class_="headerlink")
    return Heading(
        level=int(str(heading.name)[1]),
        text=heading.get_text().removesuffix("¶").strip(),
        id=None if anchor is None else str(anchor),
        has_permalink=bool(permalinks) and permalinks[-1].get("href") == f"#{anchor}",
    )


# Where each element that loads or links something names it.
_LINKED = {"a": "href", "link": "href", "img": "src", "script": "src"}


def _links(soup: BeautifulSoup) -> PageLinks:
    page = PageLinks()
    for tag in soup.find_all(True):
        page.ids.update(value for name in ("id", "name") if (value := _attribute(tag, name)))
        if tag.name in HEADINGS:
            page.headings.append((int(tag.name[1]), _attribute(tag, "id"), len(page.links)))
        link = _attribute(tag, _LINKED.get(tag.name, ""))
        if link:
            page.links.append(link)
    return page


def _attribute(tag: Tag, name: str) -> str:
    """The value of a single-valued attribute; "" without one."""
    value = tag.get(name)
    return str(value) if isinstance(value, str) else ""


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
        return self.source.settings.get("mock", HEALTHY)

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
