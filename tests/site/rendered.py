"""A built page as a reader meets it: its code boxes (with what their copy button copies), its
headings and the text around them, read from the HTML that MkDocs wrote.

Only the page's own Markdown is read: the theme's navigation and the API reference that
mkdocstrings renders from docstrings (`div.doc`) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from ..docs_blocks import DOCS, PYTHON_LANGS, Block, pages, shown_blocks


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


def copied_text(code: Tag) -> str:
    """What Material's copy button copies: the code element's text, minus the code annotations
    it hides while copying, with trailing whitespace trimmed (`innerText.trimEnd()` in its
    clipboard integration). The browser session checks this against the real button."""
    parts = [
        str(node)
        for node in code.find_all(string=True)
        if not any("md-annotation" in parent.get_attribute_list("class") for parent in node.parents)
    ]
    return "".join(parts).rstrip()


def _code_box(box: Tag) -> CodeBox:
    classes = box.get_attribute_list("class")
    lang = next((c.removeprefix("language-") for c in classes if c.startswith("language-")), "")
    title = box.find("span", class_="filename", recursive=False)
    code = box.find("code")
    assert isinstance(code, Tag)
    return CodeBox(lang, title.get_text() if title else None, copied_text(code))


@cache
def rendered_file(path: Path) -> RenderedPage:
    return rendered(path.read_text(encoding="utf-8"))


def rendered(html: str) -> RenderedPage:
    """Read a built page's HTML."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup
    for generated in article.select("div.doc"):  # mkdocstrings: docstrings, not this Markdown
        generated.decompose()
    boxes = [_code_box(box) for box in article.select("div.highlight") if box.find("code")]
    headings = []
    for h in article.find_all(re.compile(r"^h[1-6]$")):
        anchor = h.get("id")
        anchor = anchor if isinstance(anchor, str) else None
        permalink = h.find("a", class_="headerlink", href=f"#{anchor}") is not None
        text = h.get_text().removesuffix("¶").strip()
        headings.append(Heading(int(h.name[1]), text, anchor, permalink))
    inline = [c.get_text() for c in article.find_all("code") if c.find_parent("pre") is None]
    prose = [
        str(text)
        for text in article.find_all(string=True)
        if text.find_parent(["code", "pre", "script", "style"]) is None and text.strip()
    ]
    return RenderedPage(boxes, headings, prose, inline)


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
    def printed(self) -> list[str]:
        """The output the page shows: the `#>` lines, in order."""
        return [m[1] for m in re.finditer(r"^ *#> ?(.*)$", self.copied, re.M)]


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
