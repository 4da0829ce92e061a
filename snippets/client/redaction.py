"""Text from outside the client, made safe to raise, print and log.

A server's error message, an exception from the network stack or a URL from the environment
can carry a secret (a gateway that quotes the rejected `Authorization` header, credentials in
`PROMPTOPS_BASE_URL`) or control characters (a forged log line, an ANSI escape that clears the
screen). The client passes every such text through `scrub` and `printable` before it becomes
part of an exception message.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

MAX_SERVER_TEXT = 500
"""Characters of a server's message kept in an exception; the rest is cut."""

_BEARER = re.compile(r"(?i)\bbearer\s+[^\s'\",;]+")
_SIGNATURE = re.compile(r"\bv1=[0-9a-fA-F]{64}\b")
_USERINFO = re.compile(r"(//)[^/?#@\s]*@")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each secret (as is, and percent-encoded), bearer tokens and request signatures
    with `***`."""
    for secret in secrets:
        if secret:
            for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}:
                text = text.replace(form, "***")
    text = _BEARER.sub("Bearer ***", text)
    return _SIGNATURE.sub("v1=***", text)


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
