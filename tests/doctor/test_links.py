"""The doctor's links, against the built site: each check's link is a section a reader can open,
and that section links back to the check on the doctor's reference page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from snippets.doctor import CHECKS, SITE, Check
from snippets.doctor.cli import SCHEMA_URL

from ..docs_blocks import ROOT
from ..site.built_site import built_site
from ..site.test_links import parse, target_file

pytestmark = pytest.mark.built_site

REFERENCE = "reference/doctor/index.html"


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
    links = parse(page).section_links(check.section.partition("/#")[2])
    assert links is not None, f"{check.section}: no such heading"
    back = [
        (target_file(built_site(), page, href), unquote(urlsplit(href).fragment)) for href in links
    ]
    assert (built_site() / REFERENCE, f"check-{check.id}") in back, (
        f"{check.section} has no link to the doctor's {check.title} check: {links}"
    )


def test_the_reference_has_a_heading_for_every_check() -> None:
    ids = parse(built_site() / REFERENCE).ids
    assert {f"check-{check.id}" for check in CHECKS} <= ids


def test_the_schema_the_help_names_is_published_there() -> None:
    assert f"{SITE}reference/doctor.schema.json" == SCHEMA_URL
    published = built_site() / "reference/doctor.schema.json"
    assert published.read_bytes() == (ROOT / "docs/reference/doctor.schema.json").read_bytes()
