"""Text from outside the client, made safe to raise, print and log.

A server's error message, an exception from the network stack or a URL from the environment
can carry a secret (a gateway that quotes the rejected `Authorization` header, credentials in
`PROMPTOPS_BASE_URL`) or control characters (a forged log line, an ANSI escape that clears the
screen). The client passes every such text through `scrub` and `printable` before it becomes
part of an exception message.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterable

MAX_SERVER_TEXT = 500
"""Characters of a server's message kept in an exception; the rest is cut."""

FRAGMENT = 10
"""A run of this many characters of a secret, in any case, is hidden too: a gateway may quote
the key without its prefix, cut, or lower-cased. Shorter runs could be ordinary words."""

_BEARER = re.compile(r"(?i)\bbearer\s+[^\s'\",;]+")
_SIGNATURE = re.compile(r"\bv1=[0-9a-fA-F]{64}\b")
_USERINFO = re.compile(r"(//)[^/?#@\s]*@")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each secret (as is, percent-encoded, and any `FRAGMENT` characters or more of
    it in any case), bearer tokens and request signatures with `***`."""
    for secret in secrets:
        if secret:
            for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}:
                text = text.replace(form, "***")
            text = _without_fragments(text, secret)
    text = _BEARER.sub("Bearer ***", text)
    return _SIGNATURE.sub("v1=***", text)


def _without_fragments(text: str, secret: str) -> str:
    """`text` with each run of `FRAGMENT` or more characters of `secret` (any case) as `***`.

    Every such run holds one of the secret's `FRAGMENT`-character windows: each window is
    looked for with `str.find` (fast on a long body, and on the many short log records the
    client scrubs), and the places found, merged, are replaced."""
    windows = _windows(secret)
    if not windows:
        return text
    folded = text.lower()
    if len(folded) != len(text):  # a character whose lower case is longer (İ): keep places
        folded = "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
    found: list[list[int]] = []
    for window in windows:
        start = folded.find(window)
        while start != -1:
            found.append([start, start + FRAGMENT])
            start = folded.find(window, start + 1)
    merged: list[list[int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    kept, position = [], 0
    for start, end in merged:
        kept += [text[position:start], "***"]
        position = end
    return "".join([*kept, text[position:]])


@functools.lru_cache(maxsize=64)
def _windows(secret: str) -> tuple[str, ...]:
    """The secret's runs of `FRAGMENT` characters, lower-cased (none if it is shorter)."""
    folded = secret.lower()
    return tuple({folded[i : i + FRAGMENT] for i in range(len(folded) - FRAGMENT + 1)})


def shown(text: str, secrets: Iterable[str] = (), limit: int = MAX_SERVER_TEXT) -> str:
    """`text` as an exception or a report may show it: cut to `limit` characters first, then
    scrubbed of `secrets` and escaped, so that the cost follows what is shown, not what a
    server sent. The cut keeps a margin as long as the longest secret (three times: its
    percent-encoded form), so a secret that straddles it is scrubbed before it is cut."""
    secrets = [secret for secret in secrets if secret]
    margin = 3 * max((len(secret) for secret in secrets), default=0) + 100  # a bearer token's
    head = scrub(text[: limit + margin], secrets)[:limit]
    cut = len(text) - limit
    return f"{printable(head, limit)}... ({cut} more characters)" if cut > 0 else printable(head)


def printable(text: str, limit: int = MAX_SERVER_TEXT) -> str:
    """`text` on one line: control and invisible characters shown as escapes (`\\n`, `\\x1b`,
    `\\u202e`), and cut after `limit` characters."""
    shown = text[:limit]
    escaped = "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in shown
    )
    cut = len(text) - len(shown)
    return f"{escaped}... ({cut} more characters)" if cut else escaped


def redact_url(url: str) -> str:
    """`url` without the user and password before `@`, or a query string's values.

    >>> redact_url("https://alice:s3cret@api.example.com/?token=abc")
    'https://***@api.example.com/?***'
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: fall back to a pattern
        return printable(_USERINFO.sub(r"\1***@", url).split("?", 1)[0])
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "***" if parts.query else ""
    fragment = "***" if parts.fragment else ""
    shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    return printable(shown)
