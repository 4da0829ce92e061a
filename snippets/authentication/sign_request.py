"""Sign a PromptOps request yourself, for an HTTP library other than the
reference client."""

from __future__ import annotations

import time

from snippets.client.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


def signed_headers(
    api_key: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three headers a PromptOps request needs.

    `path` is exactly what goes on the request line, query string included
    (`/v1/client/prompts?limit=10`), and `body` the exact bytes sent. Sign just
    before sending, and sign every retry again: the server rejects timestamps
    more than 300 s off."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Authorization": f"Bearer {api_key}",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(api_key, timestamp, method, path, body),
    }
