"""Debug logging for a PromptOps integration, with secrets redacted from every line."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterable
from typing import TextIO

# --8<-- [start:redact]
SECRET_PATTERNS = (
    (re.compile(r"(?i)\bbearer\s+[^\s'\",]+"), "Bearer ***"),  # Authorization header values
    (re.compile(r"\bpo_[A-Za-z0-9_]{4,}"), "po_***"),  # anything shaped like a PromptOps key
    (re.compile(r"\bv1=[0-9a-f]{64}\b"), "v1=***"),  # request signatures
    (re.compile(r"(?i)([?&](?:api_key|key|token|signature)=)[^&\s'\"]+"), r"\1***"),  # queries
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secrets, then anything shaped like one, with `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts each record's final message and traceback before any handler writes it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


# --8<-- [end:redact]


_installed: list[logging.Handler] = []


# --8<-- [start:setup]
def setup_debug_logging(
    level: str = "DEBUG", *, stream: TextIO | None = None, log_file: str | None = None
) -> logging.Logger:
    """Log the client (`promptops`) and httpx at `level`, to `stream` (stderr) and `log_file`.

    Every handler redacts the API key in `PROMPTOPS_API_KEY` and anything shaped like a key or
    signature. Calling it again replaces the handlers it installed before.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)-5s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime  # UTC, so logs from several machines line up
    redacting = RedactingFilter([os.environ.get("PROMPTOPS_API_KEY", "")])
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    _installed[:] = handlers
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redacting)  # on the handler: it sees records from every logger
        root.addHandler(handler)
    for name in ("promptops", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(level)
    return logging.getLogger("promptops")


# --8<-- [end:setup]
