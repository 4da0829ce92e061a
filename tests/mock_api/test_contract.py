"""The mock cannot drift from the documented API: every response it gives, in every scenario,
and every request the client sends, is validated against docs/reference/openapi.yaml."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import yaml

from snippets.client import ERROR_CATALOG, PromptOpsClient, PromptOpsError
from snippets.client.clock import FakeClock
from snippets.client.signing import sign
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.server import MAX_BODY_BYTES, MAX_JSON_DEPTH

from ..contract import SPEC_PATH, check_request, check_response
from ..in_memory import TLS
from ..scenarios import SCENARIOS

Call = Callable[[PromptOpsClient], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "health_check": lambda c: c.health_check(),
    "list_prompts": lambda c: c.list_prompts(),
    "get_prompt": lambda c: c.get_prompt("hello-world"),
    "get_prompt missing": lambda c: c.get_prompt("no-such-prompt"),
    "render_prompt": lambda c: c.render_prompt("welcome-message", {"name": "A", "company": "B"}),
    "render_prompt missing variable": lambda c: c.render_prompt("welcome-message", {"name": "A"}),
    "batch_render": lambda c: c.batch_render([("hello-world", {"name": "A"}), ("nope", {})]),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("scenario", [n for n, s in SCENARIOS.items() if s.within_contract])
def test_every_exchange_matches_the_contract(
    mock_api: MockPromptOpsAPI, clock: FakeClock, scenario: str, call: str
) -> None:
    api_key = mock_api.api_key
    SCENARIOS[scenario].setup(mock_api)

    async def main() -> None:
        # Failing is fine here; failing outside the contract is not.
        async with PromptOpsClient(api_key, clock=clock) as client:
            with contextlib.suppress(PromptOpsError):
                await CALLS[call](client)

    asyncio.run(main())
    assert mock_api.requests, "the call sent nothing"
    for request in mock_api.requests:
        check_request(request)
    for request, response in mock_api.exchanges:
        check_response(request, response)


def signed(clock: FakeClock, key: str, method: str, path: str, body: bytes) -> httpx.Request:
    timestamp = int(clock.time())
    return httpx.Request(
        method,
        f"https://api.promptops.com{path}",
        content=body,
        headers={
            "Authorization": f"Bearer {key}",
            "X-PromptOps-Timestamp": str(timestamp),
            "X-PromptOps-Signature": sign(key, timestamp, method, path, body),
            "Content-Type": "application/json",
        },
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/health", b""),
        ("POST", "/v1/client/prompts/hello-world/render", b"{not json"),
        ("POST", "/v1/client/prompts/hello-world/render", b'{"variables": []}'),
        ("POST", "/v1/client/prompts/batch-render", b'{"requests": []}'),
        ("POST", "/v1/client/prompts/batch-render", json.dumps({"requests": [{}]}).encode()),
        ("POST", "/v1/client/prompts/batch-render", b'{"requests": [{"prompt_id": 7}]}'),
        ("POST", "/v1/client/prompts/hello-world/render", b"{}"),
    ],
)
def test_answers_to_requests_the_client_never_sends(
    mock_api: MockPromptOpsAPI, clock: FakeClock, method: str, path: str, body: bytes
) -> None:
    """Malformed requests (from other clients) still get answers inside the contract."""

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(verify=TLS) as http:
            return await http.send(signed(clock, mock_api.api_key, method, path, body))

    response = asyncio.run(send())
    check_response(*mock_api.exchanges[-1])
    assert response.status_code in (200, 422)


def test_error_codes_in_the_contract_are_the_catalog_s_wire_codes() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    documented = set(spec["components"]["schemas"]["ErrorCode"]["enum"])
    catalog = {s.code for s in ERROR_CATALOG if s.status is not None}
    lines = SPEC_PATH.read_text().splitlines()
    enum = lines.index("    ErrorCode:")
    last = next(n for n in range(enum + 1, len(lines)) if lines[n].startswith("        - "))
    while lines[last + 1].startswith("        - "):
        last += 1
    problems = [
        f"docs/reference/openapi.yaml: add {code} to the ErrorCode enum, after line {last + 1}:"
        f"\n        - {code}"
        for code in sorted(catalog - documented)
    ] + [
        f"{code} is in the contract's ErrorCode enum but has no ErrorSpec row in "
        "snippets/client/errors.py"
        for code in sorted(documented - catalog)
    ]
    assert not problems, "\n".join(problems)


def test_a_drifted_response_is_caught(mock_api: MockPromptOpsAPI) -> None:
    """The check itself can fail: a body the contract does not allow is rejected."""
    request = httpx.Request("GET", "https://api.promptops.com/v1/client/health")
    drifted = httpx.Response(200, json={"success": True, "data": {"state": "healthy"}})
    with pytest.raises(Exception, match="(?i)invalid|valid"):
        check_response(request, drifted)


def _answer(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"success": False, "error": {"code": code, "message": "m"}}
    headers = {"X-Request-Id": "req_1", "Date": "Thu, 01 Jan 2026 00:00:00 GMT", **headers}
    return httpx.Response(status, json=body, headers=headers)


def test_the_contract_pins_one_error_code_per_status() -> None:
    request = httpx.Request("GET", "https://api.promptops.com/v1/client/health")
    check_response(request, _answer(401, "AUTHENTICATION_ERROR"))
    with pytest.raises(Exception, match="(?i)invalid|valid"):
        check_response(request, _answer(401, "RATE_LIMIT_ERROR"))
    with pytest.raises(Exception, match="(?i)invalid|valid"):
        check_response(request, _answer(503, "TIMEOUT_ERROR"))


@pytest.mark.parametrize("missing", ["X-Request-Id", "Date"])
def test_every_response_must_carry_a_request_id_and_a_date(missing: str) -> None:
    """The FAQ's hook reads X-Request-Id; clock_skew reads Date."""
    request = httpx.Request("GET", "https://api.promptops.com/v1/client/health")
    response = _answer(401, "AUTHENTICATION_ERROR")
    del response.headers[missing]
    with pytest.raises(Exception, match="(?i)missing|required|header"):
        check_response(request, response)


def test_every_operation_has_a_unique_operation_id() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    ids = [op.get("operationId") for item in spec["paths"].values() for op in item.values()]
    assert None not in ids and len(set(ids)) == len(ids) == 6


def test_a_body_over_the_limit_is_answered_within_the_contract(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    for path in ("/v1/client/prompts/hello-world/render", "/v1/client/prompts/batch-render"):
        response = mock_api.handle(signed(clock, mock_api.api_key, "POST", path, body))
        assert response.status_code == 413
        check_response(*mock_api.exchanges[-1])


def test_the_documented_limits_are_the_mock_s() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    assert f"({MAX_BODY_BYTES} bytes)" in spec["components"]["responses"]["TooLarge"]["description"]
    page = " ".join((SPEC_PATH.parent / "api-contract.md").read_text().split())  # unwrapped
    assert f"over 1 MiB ({MAX_BODY_BYTES} bytes)" in page
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in page
