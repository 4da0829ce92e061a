"""Log every request and response as one JSON line each, redacted, safe under concurrency."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from snippets.debugging.redaction import redact

SENSITIVE_KEYS = {"authorization", "x-promptops-signature", "api_key", "cookie", "set-cookie"}


class RequestLogger:
    """Appends JSON Lines to `path`: `{"type", "timestamp" (UTC, ISO 8601), "data"}`.

    Each entry is written whole by one `write` under a lock, so concurrent requests never
    interleave their lines. Secrets are redacted before anything touches the file.
    """

    def __init__(self, path: str | os.PathLike[str], *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.secrets = [s for s in (*secrets, os.environ.get("PROMPTOPS_API_KEY", "")) if s]
        self._lock = threading.Lock()

    def log_request(self, data: dict[str, Any]) -> None:
        self._write("request", data)

    def log_response(self, data: dict[str, Any]) -> None:
        self._write("response", data)

    def log_error(self, data: dict[str, Any]) -> None:
        self._write("error", data)

    def event_hooks(self) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
        """httpx event hooks: pass them as `PromptOpsClient(event_hooks=logger.event_hooks())`."""

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
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "data": self._redacted(data),
        }
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as log_file:
            log_file.write(line)

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
