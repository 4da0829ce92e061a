"""Symptom search: what a stressed reader pastes or types into the site's own search (Material's,
in Chromium) finds the section that answers it first.

The phrases, where each comes from and its section: tests/browser/symptoms.py. "First" is the
result that Enter opens: of the first page in the results, the best-scored of its links (the
page, then its best sections, as Material lists them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from snippets.client.errors import ERROR_CATALOG

from ..site.built_site import built_site
from .symptoms import CODE_SECTIONS, STATUS_SECTIONS, all_symptoms, statuses

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("search")]

# Phrases the site's search does not rank at their section yet, and why: strict, so a fix fails
# here until the phrase leaves this table.
MISSED = {
    "VALIDATION_ERROR": (
        "the code alone ranks two of its symptom sections (their headings start with it) above "
        "the code's own section on API errors, which lists all of its messages"
    ),
}

SYMPTOMS = [
    pytest.param(
        s.query,
        s.answer,
        s.typed,
        id=s.query.replace("snippets.client.errors.", "uncaught ")[:72],
        marks=[pytest.mark.xfail(strict=True, reason=MISSED[s.query])] if s.query in MISSED else [],
    )
    for s in all_symptoms()
]

# Counts the search worker's queries and answers, so that a test reads the results of the
# whole query, not of a prefix typed a moment before (Material sends one per key).
COUNT_SEARCH_MESSAGES = """(() => {
  const Native = window.Worker;
  window.__searched = { queries: 0, results: 0 };
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", event => {
        if (event.data && event.data.type === 3) window.__searched.results++;
      });
    }
    postMessage(message, ...rest) {
      if (message && message.type === 2) window.__searched.queries++;
      return super.postMessage(message, ...rest);
    }
  };
})();"""

# The link Enter opens: the best-scored of the first result's (Material's own rule).
FIRST_RESULT = """() => {
  const item = document.querySelector(".md-search-result__item");
  if (!item) return null;
  let best = null, score = -1;
  for (const link of item.querySelectorAll("a")) {
    const value = parseFloat(link.querySelector("[data-md-score]").dataset.mdScore);
    if (value > score) [best, score] = [link.href, value];
  }
  return best;
}"""


@pytest.fixture(scope="module")
def search(browser: Browser, site_url: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=site_url,
        permissions=["clipboard-read", "clipboard-write"],  # to paste
        viewport={"width": 1280, "height": 900},
    )
    context.add_init_script(COUNT_SEARCH_MESSAGES)
    page = context.new_page()
    page.goto("", wait_until="load")
    page.keyboard.press("/")  # Material's search shortcut
    yield page
    context.close()


def first_result(page: Page, query: str, *, typed: bool = False) -> str:
    """Where the first search result for `query` leads, `page/#anchor` as the search index
    locates it: `query` pasted (Control+V), or typed key by key (Material searches on key
    events, which `fill` does not send)."""
    field = page.locator("input.md-search__input")
    field.press("Control+a")
    field.press("Backspace")
    sent = page.evaluate("window.__searched.queries")
    if typed:
        field.press_sequentially(query)
    else:
        page.evaluate("text => navigator.clipboard.writeText(text)", query)
        field.press("Control+v")
    page.wait_for_function(
        "sent => window.__searched.queries > sent"
        " && window.__searched.results >= window.__searched.queries",
        arg=sent,
    )
    href: str | None = page.evaluate(FIRST_RESULT)
    if href is None:
        return "no result"
    url, site_root = urlsplit(href), urlsplit(page.url).path
    return url.path.removeprefix(site_root) + (f"#{url.fragment}" if url.fragment else "")


@pytest.mark.parametrize(("query", "answer", "typed"), SYMPTOMS)
def test_the_answering_section_ranks_first(
    search: Page, query: str, answer: str, typed: bool
) -> None:
    assert first_result(search, query, typed=typed) == answer


def test_at_least_sixty_symptoms_are_searched() -> None:
    assert len(SYMPTOMS) >= 60


def test_every_answer_is_a_section_of_the_site() -> None:
    """A section that moved or was renamed fails here by name, not as a search that missed."""
    index = json.loads((built_site() / "search/search_index.json").read_text("utf-8"))
    locations = {doc["location"] for doc in index["docs"]}
    assert not {s.answer for s in all_symptoms()} - locations


def test_every_code_and_status_has_its_section_declared() -> None:
    """A new error code or status is searched for as soon as it exists: its section is to be
    chosen, not left out."""
    assert set(CODE_SECTIONS) == {spec.code for spec in ERROR_CATALOG}
    assert set(STATUS_SECTIONS) == set(statuses())


def test_a_phrase_missed_is_one_searched_for() -> None:
    assert set(MISSED) <= {s.query for s in all_symptoms()}


def test_enter_opens_the_first_result_at_its_section(search: Page) -> None:
    query = "VALIDATION_ERROR: Missing variable(s) for prompt 'welcome-message': company"
    page, anchor = "common-issues/", "validation_error-missing-variables-for-prompt"
    assert first_result(search, query, typed=True) == f"{page}#{anchor}"
    search.locator("input.md-search__input").press("Enter")
    expect(search).to_have_url(re.compile(f"/{page}[^#]*#{anchor}$"))
    expect(search.locator("h1")).to_have_text(re.compile(r"^Common issues"))
