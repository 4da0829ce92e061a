"""The site as a reader meets it, in a real Chromium: `nox -s browser`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..site.built_site import built_site
from ..site.rendered import copyable_blocks, html_file
from .conftest import Traffic

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
    assert traffic.console_errors == []
    assert traffic.failures == []
    assert traffic.off_host() == [], "every asset must come from the site itself"


# A block in a content tab is hidden until its tab is chosen, one in a collapsed admonition
# until it is opened: click the tab's label or the summary, as a reader does.
SHOW_IT = """box => {
    const block = box.closest(".tabbed-block");
    if (block) {
        const index = [...block.parentElement.children].indexOf(block);
        block.closest(".tabbed-set").querySelectorAll(".tabbed-labels > label")[index].click();
    }
    const details = box.closest("details");
    if (details && !details.open) details.querySelector("summary").click();
}"""


@pytest.mark.parametrize("path", site_pages())
def test_copy_buttons_copy_what_the_copy_check_runs(page: Page, path: str) -> None:
    """The copy check (tests/copied) reads each Python block's copy text from the HTML; here the
    real buttons, in Chromium, must put exactly that text on the clipboard."""
    expected = [
        block.copied
        for block in copyable_blocks(built_site())
        if html_file(built_site(), block.source.page).parent.relative_to(built_site()).as_posix()
        == (path.strip("/") or ".")
    ]
    page.goto(path.lstrip("/"), wait_until="networkidle")
    boxes = page.locator("article div.language-python.highlight:not(div.doc *)")
    assert boxes.count() == len(expected)
    for index in range(boxes.count()):
        box = boxes.nth(index)
        box.evaluate(SHOW_IT)
        box.hover()
        box.locator("button[data-md-type='copy']").click()
        assert page.evaluate("navigator.clipboard.readText()") == expected[index]


def console_commands(text: str) -> list[str]:
    """The commands of a terminal session shown as `$ command` lines and their output."""
    return [line.removeprefix("$ ") for line in text.splitlines() if line.startswith("$ ")]


@pytest.mark.parametrize("path", ["common-issues/", "authentication/"])
def test_a_terminal_session_s_copy_button_copies_its_commands_only(page: Page, path: str) -> None:
    page.goto(path, wait_until="networkidle")
    boxes = page.locator("article div.language-console.highlight")
    assert boxes.count() > 0
    for index in range(boxes.count()):
        box = boxes.nth(index)
        box.evaluate(SHOW_IT)
        shown = box.locator("code").inner_text()
        box.hover()
        box.locator("button[data-md-type='copy']").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert [line for line in copied.splitlines() if line] == console_commands(shown), shown


@pytest.mark.parametrize("path", site_pages())
def test_no_table_of_contents_entry_is_cut_short(page: Page, path: str) -> None:
    """A heading that quotes a long error message wraps in the table of contents, so a reader
    scanning it sees the whole message."""
    page.goto(path.lstrip("/"), wait_until="networkidle")
    cut = page.evaluate(
        """[...document.querySelectorAll('.md-nav--secondary .md-ellipsis')]
            .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.textContent.trim())"""
    )
    assert cut == []


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
