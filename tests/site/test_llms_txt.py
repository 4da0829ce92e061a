"""llms.txt is generated at build and lists every page of the nav."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ..docs_blocks import ROOT
from .built_site import built_site
from .test_markup_hooks import hook


def nav_pages(nav: list[object]) -> list[str]:
    pages: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += nav_pages(value) if isinstance(value, list) else [str(value)]
    return pages


@pytest.mark.built_site
def test_llms_txt_lists_every_page_but_contributing() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    listed = set(
        re.findall(r"\]\(https://[^/]+/([^)]*)\)", (built_site() / "llms.txt").read_text())
    )
    expected = {
        "index.md" if page == "index.md" else page.removesuffix(".md") + "/index.md"
        for page in nav_pages(config["nav"])
        if page != "contributing.md"  # for maintainers, not for answering readers' questions
    }
    assert listed == expected


@pytest.mark.built_site
def test_llms_full_txt_has_the_pages_text() -> None:
    full = (built_site() / "llms-full.txt").read_text()
    assert "RATE_LIMIT_ERROR" in full and "Configuration doctor" in full


def test_a_page_is_described_by_its_front_matter_or_its_first_sentence(tmp_path: Path) -> None:
    """hooks/llms_txt_from_nav.py: the list llms.txt takes is written from the nav, so a new
    page needs no second entry in mkdocs.yml."""
    described = tmp_path / "described.md"
    described.write_text("---\ndescription: What it is for\n---\n# Title\n\nOther text.\n")
    plain = tmp_path / "plain.md"
    plain.write_text("# Title\n\nFix [the thing](x.md) *first*. Then more.\n\n## Next\n")
    description = hook("llms_txt_from_nav").description
    assert description(described) == "What it is for"
    assert description(plain) == "Fix the thing first"


def test_an_unchanged_page_s_markdown_comes_from_the_cache_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hooks/llms_txt_cache.py: the second conversion of the same HTML is read back, and is
    what the plugin itself writes; other HTML is converted again."""
    cache = hook("llms_txt_cache")
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    settings = {
        "should_autoclean": True,
        "preprocess": None,
        "path": "x/index.md",
        "base_uri": "https://example.com/",
        "page_uri": "x/index.html",
    }
    html = "<article><h1>Rate limits</h1><p>Wait <code>Retry-After</code> seconds.</p></article>"
    direct = cache._convert(html, **settings)
    assert cache.cached_page_markdown(html, **settings) == direct
    (kept,) = tmp_path.iterdir()
    kept.write_text("read from the cache")
    assert cache.cached_page_markdown(html, **settings) == "read from the cache"
    assert cache.cached_page_markdown(html + "<p>More.</p>", **settings) != "read from the cache"
