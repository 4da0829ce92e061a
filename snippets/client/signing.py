"""Request signing for the PromptOps API (HMAC-SHA256, like Stripe and Slack webhooks).

Every request carries `X-PromptOps-Timestamp: <unix seconds>` and
`X-PromptOps-Signature: v1=<hex>`, where `<hex>` is the HMAC-SHA256, keyed with
the API key, of four lines:

    <timestamp>
    <METHOD>
    <path, with ?query as sent>
    <sha256 hex of the body>

The server accepts timestamps within `TIMESTAMP_TOLERANCE` seconds either way.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-PromptOps-Timestamp"
SIGNATURE_HEADER = "X-PromptOps-Signature"
SIGNATURE_VERSION = "v1"
TIMESTAMP_TOLERANCE = 300


def string_to_sign(timestamp: int, method: str, path: str, body: bytes) -> str:
    """The exact text that is signed; print it when a signature does not match."""
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{method.upper()}\n{path}\n{body_hash}"


def sign(api_key: str, timestamp: int, method: str, path: str, body: bytes = b"") -> str:
    """Return the `X-PromptOps-Signature` header value for one request."""
    message = string_to_sign(timestamp, method, path, body).encode()
    digest = hmac.new(api_key.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    api_key: str, signature: str, timestamp: int, method: str, path: str, body: bytes = b""
) -> bool:
    """Check a signature in constant time (what the server does)."""
    return hmac.compare_digest(sign(api_key, timestamp, method, path, body), signature)
