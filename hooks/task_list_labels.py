"""MkDocs hook: give each checklist checkbox the text of its item as its accessible name.

pymdownx.tasklist writes `<label class="task-list-control"><input type="checkbox"/>...</label>`
followed by the item's text, outside the label: a screen reader announces "checkbox" and
nothing else (axe-core: `label`, critical). The hook names each box after its item.
"""

from __future__ import annotations

import html
import re
from typing import Any

_ITEM = re.compile(
    r'(<li class="task-list-item"><label class="task-list-control"><input type="checkbox")'
    r"([^>]*>.*?</label>)(.*?)(?=</li>|<ul|<ol)",
    re.S,
)
_TAG = re.compile(r"<[^>]+>")


def _label(match: re.Match[str]) -> str:
    text = " ".join(html.unescape(_TAG.sub("", match[3])).split())
    return f'{match[1]} aria-label="{html.escape(text)}"{match[2]}{match[3]}'


def on_page_content(content: str, **kwargs: Any) -> str:
    return _ITEM.sub(_label, content)
