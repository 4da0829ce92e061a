"""MkDocs hook: no element for the whitespace in code.

Pygments puts each run of spaces in a code block in a `<span class="w">`, which no style
colours: on the API contract page (the OpenAPI document, indented) they were 1,700 of its
5,800 elements, each one parsed and styled by a phone for nothing. The spaces stay; only their
spans go.
"""

from __future__ import annotations

import re
from typing import Any

_WHITESPACE = re.compile(r'<span class="w">(\s*)</span>')


def on_page_content(content: str, **kwargs: Any) -> str:
    return _WHITESPACE.sub(r"\1", content)
