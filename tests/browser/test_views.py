"""Every page in each view a reader meets it in: light and dark, on a desktop (1280 px) and a
phone (390 px). axe-core finds no serious or critical violation; nothing is out of reach on a
phone; code fits its block on a desktop. A screenshot of each view goes to screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from ..docs_lint import SHOWN_LINE_LENGTH
from .conftest import SCREENSHOTS
from .test_site import site_pages

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class View:
    scheme: str  # prefers-color-scheme: Material's palette follows it
    width: int

    def __str__(self) -> str:
        return f"{self.scheme}-{self.width}"


DESKTOP, PHONE = 1280, 390
VIEWS = [View(s, w) for w in (DESKTOP, PHONE) for s in ("light", "dark")]

# Violations only a fork of Material could fix: (rule, CSS selector) -> why. None so far.
THEME_EXCEPTIONS: dict[tuple[str, str], str] = {}

AXE = Axe()


@dataclass
class Shown:
    view: View
    path: str
    page: Page


def _views(*views: View) -> list[Any]:
    # One xdist group per view: its pages load once, for all the tests of that view.
    return [
        pytest.param((v, p), id=f"{v}-{p}", marks=pytest.mark.xdist_group(f"view-{v}"))
        for v in views
        for p in site_pages()
    ]


@pytest.fixture(scope="module")
def shown(request: pytest.FixtureRequest, browser: Browser, site_url: str) -> Iterator[Shown]:
    """One page in one view, loaded once for every test of that view (pytest groups them), and
    its full-page screenshot written for the CI artifact."""
    view, path = request.param
    context = browser.new_context(
        base_url=site_url,
        viewport={"width": view.width, "height": 900},
        color_scheme=view.scheme,
    )
    page = context.new_page()
    page.goto(path.lstrip("/"), wait_until="load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = path.strip("/").replace("/", "-") or "index"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{view}.png"), full_page=True)
    yield Shown(view, path, page)
    context.close()


@pytest.mark.parametrize("shown", _views(*VIEWS), indirect=True)
def test_no_serious_or_critical_accessibility_violation(shown: Shown) -> None:
    results = AXE.run(shown.page, options={"resultTypes": ["violations"]}).response
    found = [
        f"{violation['id']} ({violation['impact']}) at {node['target'][0]}: "
        f"{violation['help']}\n    {node['html'][:160]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
        if (violation["id"], node["target"][0]) not in THEME_EXCEPTIONS
    ]
    assert not found, f"{len(found)} violation(s) in {shown.view}:\n" + "\n".join(found)


# Every word of the page's text that the browser laid out over two lines, outside code
# blocks (which scroll). In prose a break after a hyphen is fine; in code, no break is.
WORDS_BROKEN_OVER_LINES = """() => {
  const broken = [];
  const walker = document.createTreeWalker(
    document.querySelector("article"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest("pre") || !parent.offsetParent) continue;
    const inCode = !!parent.closest("code");
    const pattern = inCode ? /\\S+/g : /[^\\s\\-]+-?/g;
    for (const match of node.textContent.matchAll(pattern)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


@pytest.mark.parametrize(
    "shown", _views(View("light", PHONE), View("light", DESKTOP)), indirect=True
)
def test_no_word_or_identifier_breaks_over_two_lines(shown: Shown) -> None:
    assert shown.page.evaluate(WORDS_BROKEN_OVER_LINES) == []


# What sticks out sideways: the page itself, and any table wider than the column (its last
# columns would be out of reach).
OVERFLOWING = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) found.push(`page: ${root.scrollWidth}px wide`);
  for (const wrap of document.querySelectorAll("article .md-typeset__scrollwrap")) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const header = wrap.querySelector("th, td").textContent.trim();
      found.push(`table "${header}...": ${wrap.scrollWidth}px in ${wrap.clientWidth}px`);
    }
  }
  return found;
}"""


@pytest.mark.parametrize(
    "shown", _views(View("light", PHONE), View("light", DESKTOP)), indirect=True
)
def test_every_table_column_is_within_reach(shown: Shown) -> None:
    assert shown.page.evaluate(OVERFLOWING) == []


# Shows the content tab that holds a code block (a hidden tab's block has no layout).
SHOW_ITS_TAB = """const showItsTab = code => {
    const tab = code.closest(".tabbed-block");
    if (tab) {
      const set = tab.closest(".tabbed-set");
      const index = [...tab.parentElement.children].indexOf(tab);
      set.querySelectorAll(".tabbed-labels > label")[index].click();
    }
  };
"""

# Each output line of a terminal session (every content tab shown in turn), as the rows the
# browser laid it out in: where each row starts, in characters of the code font.
CONSOLE_OUTPUT_ROWS = (
    """() => {
  """
    + SHOW_ITS_TAB
    + """
  const lines = [];
  for (const code of document.querySelectorAll("article .language-console pre > code")) {
    showItsTab(code);
    const probe = document.createElement("span");
    probe.textContent = "x".repeat(10);  // short: a wrapped probe would measure the block
    code.appendChild(probe);
    const char = probe.getBoundingClientRect().width / 10;
    probe.remove();
    const left = code.getBoundingClientRect().left + parseFloat(getComputedStyle(code).paddingLeft);
    for (const line of code.querySelectorAll(".go")) {
      const range = document.createRange();
      range.selectNodeContents(line);
      const rows = new Map();
      for (const rect of range.getClientRects()) {
        if (rect.width === 0) continue;
        const top = Math.round(rect.top);
        rows.set(top, Math.min(rows.get(top) ?? Infinity, rect.left));
      }
      const starts = [...rows.keys()].sort((a, b) => a - b)
        .map(top => Math.round((rows.get(top) - left) / char));
      lines.push({line: line.textContent.slice(0, 60), starts});
    }
  }
  return lines;
}"""
)


@pytest.mark.parametrize(
    "shown", _views(View("light", PHONE), View("light", DESKTOP)), indirect=True
)
def test_terminal_output_scrolls_on_a_phone_and_wraps_under_an_indent_on_a_desktop(
    shown: Shown,
) -> None:
    """On a phone a terminal's output keeps its lines, as code does, and the block scrolls:
    wrapped into 40 characters, the doctor's report (status, check, detail) is shredded. On a
    desktop a long line wraps, and goes on 6 characters in, past the status column."""
    lines = shown.page.evaluate(CONSOLE_OUTPUT_ROWS)
    if shown.view.width == PHONE:
        assert [line for line in lines if len(line["starts"]) > 1] == []
    else:
        assert [line for line in lines if line["starts"][1:] and line["starts"][0] != 0] == []
        assert [line for line in lines if any(s != 6 for s in line["starts"][1:])] == []


# Each code block, every content tab shown in turn: does it scroll sideways, and how many
# characters of the code font fit on one of its lines.
CODE_BLOCKS = (
    """() => {
  """
    + SHOW_ITS_TAB
    + """
  const measure = code => {
    const probe = document.createElement("span");
    probe.textContent = "x".repeat(100);
    code.appendChild(probe);
    const char = probe.getBoundingClientRect().width / 100;
    probe.remove();
    const style = getComputedStyle(code);
    const inner = code.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    return {
      first: code.textContent.split("\\n")[0].slice(0, 60),
      columns: Math.floor(inner / char),
      scrolls: code.scrollWidth > code.clientWidth,
    };
  };
  const blocks = [];
  for (const code of document.querySelectorAll("article pre > code")) {
    showItsTab(code);
    blocks.push(measure(code));
  }
  return blocks;
}"""
)


@pytest.mark.parametrize("shown", _views(View("light", DESKTOP)), indirect=True)
def test_code_fits_its_block_at_desktop_width(shown: Shown) -> None:
    """The line limit of shown code (ruff's, for snippets/ page folders and the docs' examples)
    fits a code block at 1280 px, and no block scrolls sideways (`#>` output lines wrap)."""
    blocks = shown.page.evaluate(CODE_BLOCKS)
    assert all(block["columns"] >= SHOWN_LINE_LENGTH for block in blocks), blocks
    assert [block["first"] for block in blocks if block["scrolls"]] == []


# Navigation entries Material cuts short with "…": the words past the cut are out of reach.
CUT_NAVIGATION_ENTRIES = """() => [...document.querySelectorAll(".md-sidebar .md-ellipsis")]
  .filter(entry => entry.offsetParent && entry.scrollWidth > entry.clientWidth + 1)
  .map(entry => entry.textContent.trim())"""


@pytest.mark.parametrize("shown", _views(View("light", DESKTOP)), indirect=True)
def test_no_navigation_entry_is_cut_short(shown: Shown) -> None:
    """The table of contents quotes errors whole: `[SSL: CERTIFICATE_VERIFY_FAILED]` breaks
    after an underscore (hooks/nav_word_breaks.py) rather than end in "…"."""
    assert shown.page.evaluate(CUT_NAVIGATION_ENTRIES) == []


# Each code block of the page as loaded: whether the browser skipped drawing it (off screen, on
# a phone), whether Material set it up, how far down it starts (in screens), the height it is
# given and the height it has once drawn (in ems).
CODE_BLOCK_HEIGHTS = """() => [...document.querySelectorAll("article pre")]
  .filter(pre => pre.offsetParent)
  .map(pre => {
    const skipped = !pre.querySelector("code").checkVisibility({contentVisibilityAuto: true});
    const kept = pre.getBoundingClientRect();
    pre.style.contentVisibility = "visible";
    const drawn = pre.getBoundingClientRect().height;
    pre.style.contentVisibility = "";
    const em = parseFloat(getComputedStyle(pre).fontSize);
    return {
      first: pre.textContent.slice(0, 40),
      language: pre.parentElement.className.split(" ")[0],
      skipped,
      set_up: !!pre.querySelector("button"),  // Material's copy button: the block is mounted
      screens: kept.top / innerHeight,
      kept: kept.height / em,
      drawn: drawn / em,
    };
  })"""


@pytest.mark.parametrize("path", site_pages())
def test_code_blocks_off_a_phone_s_screen_are_skipped_in_a_place_of_their_own_height(
    browser: Browser, site_url: str, path: str
) -> None:
    """A phone styles and lays out no code block until the reader nears it (most of a page's
    elements are code tokens), and the place it keeps for one is its height, a little over
    (2 %, and 3em) and never under: nothing below it moves up under it."""
    context = browser.new_context(base_url=site_url, viewport={"width": PHONE, "height": 900})
    try:
        page = context.new_page()
        page.goto(path.lstrip("/"), wait_until="load")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r)))")
        blocks = page.evaluate(CODE_BLOCK_HEIGHTS)
    finally:
        context.close()
    drawn_anyway = ("language-json",)  # it wraps: its lines do not give its height
    assert [
        b
        for b in blocks
        if b["screens"] > 3 and not b["skipped"] and b["language"] not in drawn_anyway
    ] == []
    assert [
        b for b in blocks if b["skipped"] and not b["drawn"] <= b["kept"] <= b["drawn"] * 1.02 + 3
    ] == []
    # Nor does Material set a skipped block up (content.lazy): measuring it would draw it.
    assert [b for b in blocks if b["skipped"] and b["set_up"]] == []


@pytest.mark.parametrize("shown", _views(*VIEWS), indirect=True)
def test_a_full_page_screenshot_of_the_view_is_saved(shown: Shown) -> None:
    """The CI artifact: screenshots/<page>-<scheme>-<width>.png, the whole page at its width."""
    name = shown.path.strip("/").replace("/", "-") or "index"
    png = (SCREENSHOTS / f"{name}-{shown.view}.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == shown.view.width and height >= 900


OVERLAP = """(anchor) => {
    const top = document.querySelector(".md-top"), heading = document.getElementById(anchor);
    const a = top.getBoundingClientRect(), b = heading.getBoundingClientRect();
    return {
      shown: !top.hidden && getComputedStyle(top).visibility !== "hidden",
      overlap: a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom,
    };
  }"""


def test_back_to_top_never_covers_the_heading_a_link_lands_on(
    browser: Browser, site_url: str
) -> None:
    """A reader lands on a symptom's heading from a search result on a phone, then scrolls up
    a little: "Back to top" shows, and the heading they came to read stays in view."""
    context = browser.new_context(base_url=site_url, viewport={"width": PHONE, "height": 844})
    try:
        page = context.new_page()
        page.goto("common-issues/#connect-timeout", wait_until="load")
        page.mouse.move(195, 400)
        page.mouse.wheel(0, -10)  # scrolling up a little shows the button
        page.wait_for_function("() => !document.querySelector('.md-top').hidden")
        found = page.evaluate(OVERLAP, "connect-timeout")
    finally:
        context.close()
    assert found == {"shown": True, "overlap": False}
