"""The check tools' links, against the built site: each check's link is a section a reader can
open; each section the doctor links to links back to the check on the doctor's reference page;
and the schema `--help` names is published where it says."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from snippets.authentication import clock_skew
from snippets.checks import SITE, Check
from snippets.cli import SCHEMA_URL
from snippets.common_issues import config_doctor
from snippets.debugging import network_diagnostics
from snippets.doctor import CHECKS
from snippets.index import health_check

from ..docs_blocks import ROOT
from ..site.built_site import built_site
from ..site.test_links import parse, target_file

pytestmark = pytest.mark.built_site

REFERENCE = "reference/doctor/index.html"
EVERY_TOOL_S_CHECKS = {
    check.id: check
    for table in (
        CHECKS,
        config_doctor.CHECKS,
        network_diagnostics.CHECKS,
        clock_skew.CHECKS,
        health_check.CHECKS,
    )
    for check in table
}


def page_of(check: Check) -> Path:
    page, _, _ = check.section.partition("/#")
    return built_site() / page / "index.html"


def test_the_links_start_where_the_site_is_published() -> None:
    site_url = re.search(r"^site_url: (\S+)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert site_url is not None and site_url[1] == SITE


def test_the_doctor_runs_every_tool_s_checks_but_the_health_check_s_cache() -> None:
    """The doctor times fetches from the cache in its latency check instead."""
    assert set(EVERY_TOOL_S_CHECKS) - {check.id for check in CHECKS} == {"cache"}


@pytest.mark.parametrize("check", EVERY_TOOL_S_CHECKS.values(), ids=lambda c: c.id)
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
    to_the_reference = [f"#{anchor}" for page, anchor in back if page == built_site() / REFERENCE]
    assert (built_site() / REFERENCE, f"check-{check.id}") in back, (
        f"{check.section} has no link to reference/doctor.md#check-{check.id}, the doctor's "
        f"{check.title} check (it links to {to_the_reference or 'no check'})"
    )


def test_the_reference_has_a_heading_for_every_check() -> None:
    ids = parse(built_site() / REFERENCE).ids
    assert {f"check-{check.id}" for check in CHECKS} <= ids


def test_the_schema_the_help_names_is_published_there() -> None:
    assert f"{SITE}reference/report.schema.json" == SCHEMA_URL
    published = built_site() / "reference/report.schema.json"
    assert published.read_bytes() == (ROOT / "docs/reference/report.schema.json").read_bytes()
