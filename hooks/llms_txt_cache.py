"""MkDocs hook: keep the llmstxt plugin's Markdown of each page between builds.

The plugin turns every page's HTML back into Markdown for llms-full.txt (BeautifulSoup,
markdownify, mdformat): about half the time of a build. The result depends only on the HTML
and the plugin's settings, so a page whose HTML has not changed reuses the Markdown of an
earlier build, kept in `.cache/llms-txt/` under a hash of all of them. A changed page, a new
plugin version or a new setting misses the cache and is converted as before. After a build,
only what it used is kept, so that `mkdocs serve` does not pile up every edit.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs_llmstxt._internal import plugin as llmstxt

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "llms-txt"
_VERSION = importlib.metadata.version("mkdocs-llmstxt")
_convert: Callable[..., str] | None = getattr(llmstxt, "_generate_page_markdown", None)
_used: set[Path] = set()


def cached_page_markdown(html: str, **settings: Any) -> str:
    """`_generate_page_markdown`, answered from the cache when it has seen this page."""
    assert _convert is not None
    # The output path matters only to a preprocess module.
    keyed = {k: v for k, v in settings.items() if k != "path" or settings.get("preprocess")}
    key = repr((_VERSION, sorted(keyed.items()), html)).encode()
    kept = CACHE / f"{hashlib.sha256(key).hexdigest()}.md"
    _used.add(kept)
    try:
        return kept.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    markdown = _convert(html, **settings)
    CACHE.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: two builds at once never read half a file.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=CACHE, delete=False) as new:
        new.write(markdown)
    os.replace(new.name, kept)
    return markdown


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    if _convert is None:  # a new plugin release renamed it: say so rather than go slow quietly
        raise PluginError(
            f"hooks/llms_txt_cache.py: mkdocs-llmstxt {_VERSION} has no _generate_page_markdown;"
            " update the hook or remove it from mkdocs.yml"
        )
    llmstxt._generate_page_markdown = cached_page_markdown
    return config


def on_post_build(config: MkDocsConfig, **kwargs: Any) -> None:
    for old in CACHE.glob("*.md"):
        if old not in _used:
            old.unlink(missing_ok=True)
    _used.clear()
