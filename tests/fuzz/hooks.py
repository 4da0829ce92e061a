"""Schemathesis hooks (`SCHEMATHESIS_HOOKS=tests.fuzz.hooks`): authenticate and sign requests
as the PromptOps contract requires, so the fuzzer reaches the API's logic, not only its 401s.

Two steps, because the signature covers the exact bytes sent (path with query, body), which
exist only once `requests` has prepared the request:

1. An auth provider puts the key and two placeholders on each generated case. Schemathesis
   then knows the case is authenticated, and its auth checks can take the headers away again
   (or replace them with invalid ones) to see that the API refuses such requests.
2. `before_call` hands `requests` an auth object that replaces the placeholders, and only
   them, with a real timestamp and signature over the prepared request.

The key is the mock API's, or `PROMPTOPS_LIVE_API_KEY` when `nox -s live` points Schemathesis
at another API. One check of the contract's that the schema cannot state is added: the answer
of `getPrompt` and `renderPrompt` names the prompt asked for (percent-decoded).
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import unquote

import requests
import schemathesis

from snippets.client.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from snippets.mock_api import MOCK_API_KEY

UNSIGNED = "v1=unsigned"  # the placeholder signature: replaced just before sending
API_KEY = os.environ.get("PROMPTOPS_LIVE_API_KEY") or MOCK_API_KEY


@schemathesis.auth()
class PromptOpsKey:
    """The mock API's key and signature placeholders on every generated case."""

    def get(self, case: Any, ctx: Any) -> str:
        return API_KEY

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
            headers.get("Authorization") != f"Bearer {API_KEY}"
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
            API_KEY,
            timestamp,
            request.method or "GET",
            request.path_url,
            body,
        )
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    kwargs["auth"] = SignPlaceholders()


# The field of each operation's answer that names its prompt.
_NAMED = {"getPrompt": "id", "renderPrompt": "prompt_id"}


@schemathesis.check
def answer_names_the_prompt_asked_for(ctx: Any, response: Any, case: Any) -> bool | None:
    """x-promptops: the answer's id is the id in the path, percent-decoded (a server that
    answers every id with one example prompt breaks it)."""
    field = _NAMED.get(case.operation.definition.raw.get("operationId", ""))
    if field is None or response.status_code != 200:
        return None
    asked = unquote(str(case.path_parameters["prompt_id"]))
    try:
        answered = response.json()["data"][field]
    except (ValueError, KeyError, TypeError):
        return None  # not the envelope: the schema checks say so
    if answered != asked:
        raise AssertionError(f"asked for prompt {asked!r}, answered with {answered!r}")
    return None
