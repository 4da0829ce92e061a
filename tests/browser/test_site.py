"""The site as a reader meets it, in a real Chromium: `nox -s browser`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..docs_blocks import ROOT
from ..site.built_site import built_site
from .conftest import SCREENSHOTS, Traffic

pytestmark = pytest.mark.browser


def site_pages() -> list[str]:
    return sorted(
        p.relative_to(built_site()).parent.as_posix().removeprefix(".") + "/"
        for p in built_site().rglob("index.html")
        if "assets" not in p.parts and "search" not in p.parts
    )


@pytest.mark.parametrize("path", site_pages())
def test_page_loads_cleanly_and_locally(page: Page, traffic: Traffic, path: str) -> None:
    page.goto(path.lstrip("/"), wait_until="networkidle")
    expect(page.locator("h1").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = path.strip("/").replace("/", "-") or "index"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert traffic.console_errors == []
    assert traffic.failures == []
    assert traffic.off_host() == [], "every asset must come from the site itself"


def test_search_for_an_error_code_leads_to_the_api_errors_page(page: Page) -> None:
    page.goto("", wait_until="networkidle")
    page.keyboard.press("/")  # Material's search shortcut
    # Typed key by key: Material searches on key events, which fill() does not send.
    page.locator("input.md-search__input").press_sequentially("RATE_LIMIT_ERROR")
    first = page.locator(".md-search-result__item a").first
    expect(first).to_be_visible()
    first.click()
    expect(page).to_have_url(re.compile(r"/api-errors/"))


def test_copy_button_copies_exactly_the_health_check_snippet(page: Page) -> None:
    page.goto("", wait_until="networkidle")
    block = page.locator(
        ".highlight", has=page.locator("span.filename", has_text="health_check.py")
    )
    block.hover()
    block.locator("button[data-md-type='copy']").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    source = (ROOT / "snippets/index/health_check.py").read_text()
    section = re.search(r"# --8<-- \[start:checks\]\n(.*?)# --8<-- \[end:checks\]\n", source, re.S)
    assert section is not None
    assert copied.rstrip("\n") == section[1].rstrip("\n")


def test_dark_and_light_toggle(page: Page) -> None:
    page.emulate_media(color_scheme="light")
    page.goto("", wait_until="networkidle")
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("label[title='Switch to dark mode']").click()
    assert page.evaluate(scheme) == "slate"
    page.locator("label[title='Switch to light mode']").click()
    assert page.evaluate(scheme) == "default"


def test_a_navigation_click_changes_page(page: Page) -> None:
    page.goto("", wait_until="networkidle")
    page.locator("nav.md-nav--primary a", has_text="FAQ").first.click()
    expect(page).to_have_url(re.compile(r"/faq/$"))
    expect(page.locator("h1")).to_have_text(re.compile(r"^FAQ"))  # then the permalink


def test_screenshots_were_written() -> None:
    assert SCREENSHOTS.is_dir() and any(Path(SCREENSHOTS).glob("*.png"))
