"""MkDocs hook: a long identifier in the navigation breaks after an underscore, not at an
ellipsis.

Material keeps each navigation entry in a `span.md-ellipsis`: a word wider than the sidebar
(`CERTIFICATE_VERIFY_FAILED]` in a table-of-contents entry quoting an error) is cut and ends in
"…", hiding the very text a reader is looking for. A `<wbr>` after each underscore of such a
word lets the browser break it there, at its own joints. Only long words get them: a browser
breaks at a `<wbr>` to fill a line, and `ALL_PROXY`, which fits a line, would split for nothing.
"""

from __future__ import annotations

import re
from typing import Any

LONG = 20
"""Characters in a word that may not fit the sidebar's narrowest entries (about 22 capitals)."""

_ENTRY = re.compile(r'(<span class="md-ellipsis">)(.*?)(</span>)', re.S)
_TEXT = re.compile(r"(?<=>)[^<]+|^[^<]+")
_LONG_WORD = re.compile(rf"[^\s<>]{{{LONG},}}")
_JOINT = re.compile(r"_(?=[A-Za-z0-9])")  # `__init__` breaks before `init`, if at all


def _breakable(match: re.Match[str]) -> str:
    def break_words(text: re.Match[str]) -> str:
        return _LONG_WORD.sub(lambda word: _JOINT.sub("_<wbr>", word[0]), text[0])

    return f"{match[1]}{_TEXT.sub(break_words, match[2])}{match[3]}"


def on_post_page(output: str, **kwargs: Any) -> str:
    return _ENTRY.sub(_breakable, output)
