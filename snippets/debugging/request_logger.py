"""Log every request and response as one JSON line each, redacted, safe under
concurrency."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.debugging.redaction import redact

SENSITIVE_KEYS = {
    "authorization",
    "x-promptops-signature",
    "api_key",
    "cookie",
    "set-cookie",
}

warnings = logging.getLogger("promptops.request_logger")


class NotALogFile(ValueError):
    """A log path that is no regular file of ours: `reason` says what it is."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} {reason}: refusing to log to it")
        self.reason = reason


def open_private(path: Path) -> int:
    """Open `path` to append, as every log this guide writes is opened: a
    regular file only, created 0600 (and made 0600 if it was not), never
    through a symbolic link. A FIFO, a device or a folder is refused at once,
    never opened blocking. Raises `NotALogFile` saying why, or `OSError`."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        why = {
            errno.ELOOP: "is a symbolic link (which could point anywhere)",
            errno.ENXIO: "is a FIFO with no reader",
            errno.EISDIR: "is a folder",
        }.get(exc.errno or 0)
        if why is None:
            raise
        raise NotALogFile(path, why) from None
    try:
        if not stat.S_ISREG(
            os.fstat(fd).st_mode
        ):  # checked on the file opened
            raise NotALogFile(path, "is not a regular file (a FIFO, a device)")
        os.fchmod(fd, 0o600)  # an existing file too: it will hold URLs
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class RequestLogger:
    """Appends JSON Lines to `path`: `{"type", "timestamp" (UTC, ISO 8601),
    "data"}`.

    Each entry is written whole by one `write` under a lock, so concurrent
    requests never interleave their lines. Secrets are redacted before anything
    touches the file, which only its owner can read (0600). The path is checked
    here, not at the first request: a missing directory or a symbolic link
    (which could point anywhere) fails at once.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        secrets: Iterable[str] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.clock = clock
        self.path = Path(path)
        self.secrets = [
            s for s in (*secrets, os.environ.get("PROMPTOPS_API_KEY", "")) if s
        ]
        self._lock = threading.Lock()
        os.close(open_private(self.path))  # creates the file now, or fails now

    def log_request(self, data: dict[str, Any]) -> None:
        self._write("request", data)

    def log_response(self, data: dict[str, Any]) -> None:
        self._write("response", data)

    def event_hooks(self) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
        """httpx event hooks: pass them as
        `PromptOpsClient(event_hooks=logger.event_hooks())`."""

        async def on_request(request: httpx.Request) -> None:
            self.log_request(
                {
                    "method": request.method,
                    "url": str(request.url),
                    "headers": dict(request.headers),
                }
            )

        async def on_response(response: httpx.Response) -> None:
            self.log_response(
                {
                    "method": response.request.method,
                    "url": str(response.request.url),
                    "status": response.status_code,
                    "request_id": response.headers.get("X-Request-Id"),
                }
            )

        return {"request": [on_request], "response": [on_response]}

    def _write(self, kind: str, data: dict[str, Any]) -> None:
        entry = {
            "type": kind,
            "timestamp": datetime.fromtimestamp(
                self.clock.time(), UTC
            ).isoformat(timespec="milliseconds"),
            "data": self._redacted(data),
        }
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        try:
            with (
                self._lock,
                os.fdopen(
                    open_private(self.path), "a", encoding="utf-8"
                ) as log_file,
            ):
                log_file.write(line)
        except (OSError, NotALogFile) as exc:
            # A full disk, or a file swapped for a link, must not fail the API
            # call being logged.
            reason = exc.strerror if isinstance(exc, OSError) else exc.reason
            warnings.warning(
                "request log %s not written: %s", self.path, reason
            )

    def _redacted(self, value: Any, key: str = "") -> Any:
        if key.lower() in SENSITIVE_KEYS:
            return "***"
        if isinstance(value, dict):
            return {k: self._redacted(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redacted(v) for v in value]
        if isinstance(value, str):
            return redact(value, self.secrets)
        return value
