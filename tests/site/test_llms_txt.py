"""llms.txt is generated at build and lists every page of the nav."""

from __future__ import annotations

import re

import pytest
import yaml

from ..docs_blocks import ROOT
from .built_site import built_site

pytestmark = pytest.mark.built_site


def nav_pages(nav: list[object]) -> list[str]:
    pages: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += nav_pages(value) if isinstance(value, list) else [str(value)]
    return pages


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


def test_llms_full_txt_has_the_pages_text() -> None:
    full = (built_site() / "llms-full.txt").read_text()
    assert "RATE_LIMIT_ERROR" in full and "Configuration doctor" in full
