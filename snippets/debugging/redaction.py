"""Redact secrets from text, and from every log record before a handler
writes it.

Used by the debug logging setup and the request logger; use it on anything you
print or log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from snippets.client.redaction import scrub

# Beyond what the client scrubs from its own errors (its key, bearer tokens,
# signatures): anything shaped like a PromptOps key, and secrets in query
# strings.
SECRET_PATTERNS = (
    (re.compile(r"\bpo_[A-Za-z0-9_]{4,}"), "po_***"),
    (
        re.compile(r"(?i)([?&](?:api_key|key|token|signature)=)[^&\s'\"]+"),
        r"\1***",
    ),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secrets, bearer tokens, signatures and anything shaped
    like a key or a secret query parameter with `***`."""
    text = scrub(text, secrets)
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts each record's final message and traceback before any handler
    writes it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(
                record.exc_info
            )
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True
