"""MkDocs hook: llms.txt lists the pages of the nav, so a new page needs no second list.

The llmstxt plugin takes its own list of pages (`sections`), each with a description. This hook
writes that list from the nav at build time: top-level pages under "Troubleshooting", each nav
group under its own name, every page described by its `description` front matter or else the
first sentence of its first paragraph. Pages for maintainers (contributing) are left out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig

NOT_FOR_READERS = {"contributing.md"}
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    sections: dict[str, list[dict[str, str]]] = {"Troubleshooting": []}
    for item in config.nav or []:
        title, value = next(iter(item.items())) if isinstance(item, dict) else (None, item)
        if isinstance(value, list):
            pages = [next(iter(entry.values())) for entry in value]
            sections[str(title)] = [_described(config, page) for page in pages]
        elif value not in NOT_FOR_READERS:
            sections["Troubleshooting"].append(_described(config, str(value)))
    config.plugins["llmstxt"].config.sections = sections
    return config


def _described(config: MkDocsConfig, page: str) -> dict[str, str]:
    return {page: description(Path(config.docs_dir) / page)}


def description(path: Path) -> str:
    """The page's `description:` front matter, else the first sentence of its first
    paragraph (Markdown links and emphasis reduced to their text)."""
    text = path.read_text(encoding="utf-8")
    front = _FRONT_MATTER.match(text)
    if front:
        found = re.search(r"^description:\s*(.+)$", front[1], re.M)
        if found:
            return found[1].strip().strip("\"'")
        text = text[front.end() :]
    paragraph = next(
        (
            p
            for p in re.split(r"\n\s*\n", text)
            if p.strip() and not p.lstrip().startswith(("#", "<", "!!!", "```", "|", "-", "==="))
        ),
        "",
    )
    plain = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", " ".join(paragraph.split()))
    plain = plain.replace("*", "")
    return re.split(r"(?<=[.:])\s", plain, maxsplit=1)[0].rstrip(".:")
