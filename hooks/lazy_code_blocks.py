"""MkDocs hook: what a code block needs before Material sets it up, which it does only once
the block is on screen (`content.lazy` in mkdocs.yml).

- Its number of lines (`--lines` on its `<pre>`). On a phone a page's code blocks are most of
  its elements (a token, a span), and a browser styles and lays out every one of them before
  the reader can scroll, however far below they are. `docs/stylesheets/extra.css` lets it skip
  the blocks off screen there (`content-visibility: auto`) and keep their place with a height
  worked out from this count, so that the page is as long before a block is drawn as after.
- Keyboard access (`tabindex="0"` on its `<code>`). A block wider than the screen scrolls, and
  a keyboard can scroll it only if it can focus it (axe: scrollable-region-focusable). Material
  makes such a block focusable when it sets it up, and no other; until then every block is.
"""

from __future__ import annotations

import re
from typing import Any

_BLOCK = re.compile(
    r'(<div class="language-[\w-]+(?: [\w-]+)* highlight"[^>]*>'  # a signature's too
    r'(?:<span class="filename">.*?</span>)?)'
    r"<pre><span></span><code>(.*?)</code></pre>",
    re.S,
)


def _ready(match: re.Match[str]) -> str:
    lines = match[2].rstrip("\n").count("\n") + 1
    return (
        f'{match[1]}<pre style="--lines: {lines}"><span></span>'
        f'<code tabindex="0">{match[2]}</code></pre>'
    )


def on_page_content(content: str, **kwargs: Any) -> str:
    return _BLOCK.sub(_ready, content)
