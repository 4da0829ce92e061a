"""The MkDocs hooks in hooks/ (labels and line breaks Material leaves out), on the markup the
Markdown extensions write, and on the built site. nox -s browser checks what they are for
(axe-core, layout); these say what each one writes."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import markdown
import pytest

from ..docs_blocks import ROOT
from .built_site import built_site


def hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(text: str) -> str:
    extensions = ["tables", "pymdownx.tasklist", "pymdownx.superfences"]
    configs = {"pymdownx.tasklist": {"custom_checkbox": True, "clickable_checkbox": True}}
    return markdown.markdown(text, extensions=extensions, extension_configs=configs)


def test_each_checkbox_is_named_after_its_item() -> None:
    html = render("- [ ] The key is set (`PROMPTOPS_API_KEY`) & [active](x.md).\n- [x] Done\n")
    labelled = hook("task_list_labels").on_page_content(html)
    assert re.findall(r'aria-label="([^"]*)"', labelled) == [
        "The key is set (PROMPTOPS_API_KEY) &amp; active.",
        "Done",
    ]


def test_each_body_cell_is_labelled_with_its_column() -> None:
    html = render("| Code | HTTP &amp; status |\n|---|---|\n| `A_B` | 401 |\n| `C` | 429 |\n")
    labelled = hook("table_cell_labels").on_page_content(html)
    assert re.findall(r'<td data-label="([^"]*)"', labelled) == ["Code", "HTTP &amp; status"] * 2
    assert "<th data-label" not in labelled


def test_inline_code_words_are_kept_whole_and_code_blocks_left_alone() -> None:
    html = render("Run `promptops-health-check --mock`.\n\n```text\nkeep  as-is\n```\n")
    wrapped = hook("inline_code_words").on_page_content(html)
    assert (
        '<code><span class="word">promptops-health-check</span> '
        '<span class="word">--mock</span></code>'
    ) in wrapped
    assert "keep  as-is" in wrapped and wrapped.count('class="word"') == 2


def test_long_identifiers_in_navigation_entries_may_break_after_an_underscore() -> None:
    page = (
        '<span class="md-ellipsis">\n  [SSL: CERTIFICATE_VERIFY_FAILED] ALL_PROXY '
        "AsyncClient.__init__()\n</span>"
        "<p>CERTIFICATE_VERIFY_FAILED</p>"
        '<span class="md-ellipsis"><b>PROMPTOPS_BASE_URL_X</b></span>'
    )
    assert hook("nav_word_breaks").on_post_page(page) == (
        '<span class="md-ellipsis">\n  [SSL: CERTIFICATE_<wbr>VERIFY_<wbr>FAILED] ALL_PROXY '
        "AsyncClient.__<wbr>init__()\n</span>"
        "<p>CERTIFICATE_VERIFY_FAILED</p>"
        '<span class="md-ellipsis"><b>PROMPTOPS_<wbr>BASE_<wbr>URL_<wbr>X</b></span>'
    )


def test_each_code_block_says_how_many_lines_it_has_and_takes_the_keyboard() -> None:
    html = markdown.markdown(
        '```python title="a.py"\nx = 1\n\ny = "<pre>"\n```\n\n'
        "```json\n{}\n```\n\nNo `<pre>` here.\n",
        extensions=["pymdownx.superfences", "pymdownx.highlight"],
        extension_configs={"pymdownx.highlight": {"pygments_lang_class": True}},
    )
    ready = hook("lazy_code_blocks").on_page_content(html)
    assert re.findall(r'<pre style="--lines: (\d+)"><span></span><code tabindex="0">', ready) == [
        "3",
        "1",
    ]
    assert re.sub(r' (style|tabindex)="[^"]*"', "", ready) == html


def test_whitespace_in_code_keeps_its_spaces_and_loses_its_spans() -> None:
    html = markdown.markdown(
        "```yaml\npaths:\n  /v1/health:\n    get: {}\n```\n",
        extensions=["pymdownx.superfences", "pymdownx.highlight"],
    )
    assert '<span class="w">' in html
    bare = hook("code_whitespace").on_page_content(html)
    assert '<span class="w">' not in bare
    assert re.sub(r"<[^>]+>", "", bare) == re.sub(r"<[^>]+>", "", html)


@pytest.mark.built_site
@pytest.mark.parametrize(
    ("page", "marker"),
    [
        ("index.html", '<input type="checkbox" aria-label="'),
        ("api-errors/index.html", '<td data-label="Error code and exception">'),
        ("common-issues/index.html", '<code><span class="word">'),
        ("common-issues/index.html", "CERTIFICATE_<wbr>VERIFY_<wbr>FAILED]"),
        ("faq/index.html", '<pre style="--lines: '),
    ],
)
def test_the_built_site_has_what_the_hooks_write(page: str, marker: str) -> None:
    assert marker in (built_site() / page).read_text("utf-8")


@pytest.mark.built_site
def test_the_built_site_has_no_element_for_whitespace_in_code() -> None:
    page = (built_site() / "reference/api-contract/index.html").read_text("utf-8")
    assert '<pre style="--lines: ' in page and '<span class="w">' not in page


@pytest.mark.built_site
def test_shown_modules_are_left_out_of_search_and_examples_are_not() -> None:
    page = (built_site() / "authentication/index.html").read_text(encoding="utf-8")
    blocks = re.findall(
        r'<div class="language-python highlight"([^>]*)>(<span class="filename">)?', page
    )
    modules = [attrs for attrs, titled in blocks if titled]
    examples = [attrs for attrs, titled in blocks if not titled]
    assert modules and all(attrs == " data-search-exclude" for attrs in modules)
    assert examples and all(attrs == "" for attrs in examples)
