"""Schemathesis hooks (`SCHEMATHESIS_HOOKS=tests.fuzz.hooks`): authenticate and sign requests
as the PromptOps contract requires, so the fuzzer reaches the API's logic, not only its 401s.

Two steps, because the signature covers the exact bytes sent (path with query, body), which
exist only once `requests` has prepared the request:

1. An auth provider puts the key and two placeholders on each generated case. Schemathesis
   then knows the case is authenticated, and its auth checks can take the headers away again
   (or replace them with invalid ones) to see that the API refuses such requests.
2. `before_call` hands `requests` an auth object that replaces the placeholders, and only
   them, with a real timestamp and signature over the prepared request.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import schemathesis

from snippets.client.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from snippets.mock_api import MOCK_API_KEY

UNSIGNED = "v1=unsigned"  # the placeholder signature: replaced just before sending


@schemathesis.auth()
class PromptOpsKey:
    """The mock API's key and signature placeholders on every generated case."""

    def get(self, case: Any, ctx: Any) -> str:
        return MOCK_API_KEY

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
        case.headers[TIMESTAMP_HEADER] = "0"
        case.headers[SIGNATURE_HEADER] = UNSIGNED


class SignPlaceholders(requests.auth.AuthBase):
    """Signs a prepared request that still carries the placeholders; leaves others alone."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = request.headers
        if (
            headers.get("Authorization") != f"Bearer {MOCK_API_KEY}"
            or headers.get(SIGNATURE_HEADER) != UNSIGNED
            or TIMESTAMP_HEADER not in headers
        ):
            return request  # a check removed or replaced the credentials on purpose
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):  # a stream: Schemathesis sends JSON bytes, never one
            raise TypeError(f"cannot sign a streamed body ({type(body).__name__})")
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(
            MOCK_API_KEY,
            timestamp,
            request.method or "GET",
            request.path_url,
            body,
        )
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    kwargs["auth"] = SignPlaceholders()
