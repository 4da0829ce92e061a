"""MkDocs hook: label each table cell with its column's header, for small screens.

On a phone, a table of many columns is wider than the screen. `docs/stylesheets/extra.css`
shows such a table there as one block per row, each cell preceded by its column's name, which
it reads from the `data-label` this hook writes on every body cell. The headers stay the
single source: the labels are copied from them when the site is built.
"""

from __future__ import annotations

import html
import re
from typing import Any

_TABLE = re.compile(r"<table>.*?</table>", re.S)
_HEADER = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_ROW = re.compile(r"<tr>.*?</tr>", re.S)
_CELL = re.compile(r"<td\b")
_TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def _label_table(match: re.Match[str]) -> str:
    table = match[0]
    headers = [_text(cell) for cell in _HEADER.findall(table)]

    def label_row(row: re.Match[str]) -> str:
        cells = iter(headers)
        return _CELL.sub(lambda cell: f'<td data-label="{html.escape(next(cells, ""))}"', row[0])

    return _ROW.sub(label_row, table)


def on_page_content(content: str, **kwargs: Any) -> str:
    return _TABLE.sub(_label_table, content)
