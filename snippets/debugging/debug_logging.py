"""Debug logging for a PromptOps integration, with secrets redacted from
every line."""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from snippets.debugging.redaction import RedactingFilter
from snippets.debugging.request_logger import open_private

# The handlers the last call installed: a second call replaces them instead of
# adding more.
_installed: list[logging.Handler] = []


class _PrivateFileHandler(logging.FileHandler):
    """A log file opened as the request log is: see `open_private`."""

    def __init__(self, path: str) -> None:
        super().__init__(path, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        fd = open_private(Path(self.baseFilename))
        return io.TextIOWrapper(open(fd, "ab"), encoding=self.encoding)


def setup_debug_logging(
    level: str = "DEBUG",
    *,
    stream: TextIO | None = None,
    log_file: str | None = None,
) -> logging.Logger:
    """Log the client (`promptops`) and httpx at `level`, to `stream` (stderr)
    and `log_file`.

    Every handler redacts the API key in `PROMPTOPS_API_KEY` and anything
    shaped like a key or signature. Calling it again replaces the handlers it
    installed before."""
    handlers: list[logging.Handler] = [
        logging.StreamHandler(stream or sys.stderr)
    ]
    if log_file:  # a regular file, 0600, never through a link
        handlers.append(_PrivateFileHandler(log_file))
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%SZ",
    )
    # UTC, so logs from several machines line up
    formatter.converter = time.gmtime
    redacting = RedactingFilter([os.environ.get("PROMPTOPS_API_KEY", "")])
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
        old.close()
    _installed[:] = handlers
    for handler in handlers:
        handler.setFormatter(formatter)
        # on the handler: it sees records from every logger
        handler.addFilter(redacting)
        root.addHandler(handler)
    for name in ("promptops", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(level)
    return logging.getLogger("promptops")
