"""Every internal link and anchor in the built HTML resolves (MkDocs checks the Markdown; this
checks what the reader clicks, theme navigation and generated pages included)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from ..docs_blocks import pages
from .built_site import built_site
from .rendered import PageLinks, built_page, html_file

pytestmark = pytest.mark.built_site


def parse(path: Path) -> PageLinks:
    return built_page(path).links


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
