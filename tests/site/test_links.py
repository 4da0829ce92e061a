"""Every internal link and anchor in the built HTML resolves (MkDocs checks the Markdown; this
checks what the reader clicks, theme navigation and generated pages included)."""

from __future__ import annotations

from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from ..docs_blocks import pages
from .built_site import built_site
from .rendered import html_file

pytestmark = pytest.mark.built_site


class _Page(HTMLParser):
    """A built page's ids, and its links in order, with where each heading falls among them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.headings: list[tuple[int, str, int]] = []  # level, id, number of links before it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value for name, value in attrs if value}
        self.ids.update(attributes[name] for name in ("id", "name") if name in attributes)
        if tag in _HEADINGS:
            self.headings.append((int(tag[1]), attributes.get("id", ""), len(self.links)))
        link = attributes.get(
            {"a": "href", "link": "href", "img": "src", "script": "src"}.get(tag, "")
        )
        if link:
            self.links.append(link)

    def section_links(self, anchor: str) -> list[str] | None:
        """The links from the heading with id `anchor` to the next heading of its level or
        above; None without such a heading."""
        for n, (level, heading_id, first) in enumerate(self.headings):
            if heading_id == anchor:
                after = (start for lvl, _, start in self.headings[n + 1 :] if lvl <= level)
                return self.links[first : next(after, len(self.links))]
        return None


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@cache
def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    return page


def target_file(site: Path, page: Path, href: str) -> Path | None:
    """The file an internal href points at, or None for external links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:", "data:")):
        return None
    if not parts.path:
        return page
    target = (page.parent / unquote(parts.path)).resolve()
    if target.is_dir() or parts.path.endswith("/"):
        target = target / "index.html"
    return target


def html_pages() -> list[str]:
    """Each page's place in the site, from docs/ (the tests are collected before the site is
    built). Not 404.html: it is served at any depth, so its links have no fixed base."""
    return [html_file(Path(), page).as_posix() for page in pages()]


def test_the_site_has_every_page_and_no_other() -> None:
    site = built_site()
    built = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert built == {*html_pages(), "404.html"}


def broken_links(site: Path, page: Path) -> list[str]:
    broken = []
    for href in parse(page).links:
        target = target_file(site, page, href)
        if target is None:
            continue
        if not target.is_file():
            broken.append(f"{href} -> missing {target.relative_to(site, walk_up=True)}")
            continue
        anchor = unquote(urlsplit(href).fragment)
        if anchor and target.suffix == ".html" and anchor not in parse(target).ids:
            broken.append(f"{href} -> no #{anchor} in {target.relative_to(site)}")
    return broken


@pytest.mark.parametrize("page", html_pages())
def test_internal_links_and_anchors_resolve(page: str) -> None:
    broken = broken_links(built_site(), built_site() / page)
    assert not broken, f"{page}: {broken}"


def test_the_checker_finds_a_missing_page_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq/index.html").write_text('<h2 id="where">Where</h2>')
    (tmp_path / "index.html").write_text(
        '<a href="faq/#where">ok</a> <a href="faq/#gone">anchor</a> <a href="nope/">page</a>'
        ' <a href="https://example.com/x">external</a> <a href="#top">self</a>'
    )
    assert broken_links(tmp_path, tmp_path / "index.html") == [
        "faq/#gone -> no #gone in faq/index.html",
        "nope/ -> missing nope/index.html",
        "#top -> no #top in index.html",
    ]
