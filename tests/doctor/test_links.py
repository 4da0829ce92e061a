"""The doctor's links, against the built site: each check's link is a section a reader can open,
and that section links back to the check on the doctor's reference page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from snippets.doctor import CHECKS, SITE, Check

from ..docs_blocks import ROOT
from ..site.built_site import built_site
from ..site.test_links import parse, target_file

REFERENCE = "reference/doctor/index.html"


class _Section(HTMLParser):
    """The links of one section of a page: from the heading with `anchor` to the next heading of
    its level or above."""

    def __init__(self, anchor: str) -> None:
        super().__init__()
        self.anchor = anchor
        self.level: int | None = None  # of the section's heading, once found
        self.done = False
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        heading = re.fullmatch(r"h([1-6])", tag)
        if heading and self.level is None and attributes.get("id") == self.anchor:
            self.level = int(heading[1])
        elif heading and self.level is not None and int(heading[1]) <= self.level:
            self.done = True
        elif tag == "a" and self.level is not None and not self.done:
            self.links.append(attributes.get("href") or "")


def page_of(check: Check) -> Path:
    page, _, _ = check.section.partition("/#")
    return built_site() / page / "index.html"


def test_the_links_start_where_the_site_is_published() -> None:
    site_url = re.search(r"^site_url: (\S+)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert site_url is not None and site_url[1] == SITE


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_each_check_links_to_a_section_of_the_built_site(check: Check) -> None:
    assert check.link == f"{SITE}{check.section}"
    assert re.fullmatch(r"[a-z-]+/#[a-z0-9_-]+", check.section), check.section
    page = page_of(check)
    assert page.is_file(), f"{check.id}: no page {page.relative_to(built_site())}"
    anchor = check.section.partition("/#")[2]
    assert anchor in parse(page).ids, f"{check.id}: no #{anchor} on {page.parent.name}"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_each_linked_section_links_back_to_the_check_that_detects_it(check: Check) -> None:
    page = page_of(check)
    section = _Section(check.section.partition("/#")[2])
    section.feed(page.read_text("utf-8"))
    assert section.level is not None
    back = [
        (target_file(built_site(), page, href), unquote(urlsplit(href).fragment))
        for href in section.links
    ]
    assert (built_site() / REFERENCE, f"check-{check.id}") in back, (
        f"{check.section} has no link to the doctor's {check.title} check: {section.links}"
    )


def test_the_reference_has_a_heading_for_every_check() -> None:
    ids = parse(built_site() / REFERENCE).ids
    assert {f"check-{check.id}" for check in CHECKS} <= ids
