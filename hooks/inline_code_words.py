"""MkDocs hook: inline code breaks between its words only, never inside one.

Browsers break a line after a hyphen or a slash, and Material lets inline code break anywhere:
`promptops-health-check` or `AUTHENTICATION_ERROR` then splits over two lines, which a reader
cannot search for or type. CSS can forbid every break (`white-space: nowrap`) but not keep the
ones at spaces, which long error messages in headings need on a phone. So each word of inline
code is put in a `<span class="word">` that `docs/stylesheets/extra.css` keeps on one line.
"""

from __future__ import annotations

import re
from typing import Any

# A code block (left as it is), or inline code without markup inside (Python-Markdown's).
_CODE = re.compile(r"<pre\b.*?</pre>|(<code>)([^<]*)(</code>)", re.S)
_WORD = re.compile(r"\S+")


def _wrap(match: re.Match[str]) -> str:
    if match[1] is None:
        return match[0]
    words = _WORD.sub(lambda word: f'<span class="word">{word[0]}</span>', match[2])
    return f"{match[1]}{words}{match[3]}"


def on_page_content(content: str, **kwargs: Any) -> str:
    return _CODE.sub(_wrap, content)
