"""MkDocs hook: each code block says how many lines it has (`--lines` on its `<pre>`).

On a phone a page's code blocks are most of its elements (a token, a span), and a browser
styles and lays out every one of them before the reader can scroll, however far below they
are. `docs/stylesheets/extra.css` lets it skip the blocks off screen there
(`content-visibility: auto`) and keep their place with a height worked out from this count,
so that the page is as long before a block is drawn as after.
"""

from __future__ import annotations

import re
from typing import Any

_BLOCK = re.compile(
    r'(<div class="language-[\w-]+(?: [\w-]+)* highlight"[^>]*>'  # a signature's too
    r'(?:<span class="filename">.*?</span>)?)'
    r"<pre>(<span></span><code>)(.*?)</code></pre>",
    re.S,
)


def _sized(match: re.Match[str]) -> str:
    lines = match[3].rstrip("\n").count("\n") + 1
    return f'{match[1]}<pre style="--lines: {lines}">{match[2]}{match[3]}</code></pre>'


def on_page_content(content: str, **kwargs: Any) -> str:
    return _BLOCK.sub(_sized, content)
