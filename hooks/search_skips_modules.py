"""MkDocs hook: keep the whole modules the pages show out of the search index.

A page shows a tool's whole module (so the copy button gives a file that runs), and that code
holds every error text the tool can raise. In Material's search it outranked the sections that
explain those errors: a pasted `TIMEOUT_ERROR` found the clock-skew module on the
authentication page. The modules stay on the page; their code blocks get Material's
`data-search-exclude`. Inline examples, with the output they print, stay searchable.
"""

from __future__ import annotations

import re
from typing import Any

# A code block titled with a module's path: `<div class="language-python highlight">
# <span class="filename">snippets/...`.
_MODULE_BLOCK = re.compile(
    r'<div class="language-python highlight">(?=<span class="filename">snippets/)'
)


def on_page_content(content: str, **kwargs: Any) -> str:
    return _MODULE_BLOCK.sub('<div class="language-python highlight" data-search-exclude>', content)
