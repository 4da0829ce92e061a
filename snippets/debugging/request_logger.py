"""Log every request and response as one JSON line each, redacted, safe under
concurrency."""

from __future__ import annotations

import json
import logging
import os
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
        if self.path.is_symlink():
            raise ValueError(
                f"{self.path} is a symbolic link: "
                "refusing to log requests to it"
            )
        os.close(self._open())  # creates the file now, or fails now
        os.chmod(
            self.path, 0o600
        )  # an existing file too: it will hold URLs and request ids

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
                os.fdopen(self._open(), "a", encoding="utf-8") as log_file,
            ):
                log_file.write(line)
        except OSError as exc:
            # A full disk must not fail the API call being logged.
            warnings.warning(
                "request log %s not written: %s", self.path, exc.strerror
            )

    def _open(self) -> int:
        """Open for appending, created 0600, never through a symbolic link."""
        flags = (
            os.O_WRONLY
            | os.O_APPEND
            | os.O_CREAT
            | getattr(os, "O_NOFOLLOW", 0)
        )
        return os.open(self.path, flags, 0o600)

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
