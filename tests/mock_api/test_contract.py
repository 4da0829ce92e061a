"""The mock cannot drift from the documented API: every response it gives, in every scenario,
and every request the client sends, is validated against docs/reference/openapi.yaml."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest

from snippets.client import ERROR_CATALOG, PromptOpsClient, PromptOpsError
from snippets.client.clock import FakeClock
from snippets.client.signing import sign
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.endpoints import ENDPOINTS, route
from snippets.mock_api.server import MAX_BODY_BYTES, MAX_JSON_DEPTH, OPERATIONS
from snippets.scenarios import MOCK_SCENARIOS

from ..contract import (
    CLIENT_CALLS,
    SPEC_PATH,
    Call,
    check_request,
    check_response,
    client_call,
    spec_document,
)
from ..in_memory import TLS
from ..scenarios import OUTSIDE_CONTRACT, each_scenario

# Beyond each endpoint's own call (CLIENT_CALLS): the answers that fail, by endpoint.
FAILING_CALLS: dict[str, dict[str, Call]] = {
    "getPrompt": {"missing": lambda c: c.get_prompt("no-such-prompt")},
    "renderPrompt": {
        "missing variable": lambda c: c.render_prompt("welcome-message", {"name": "A"}),
    },
    "batchRender": {
        "an unknown prompt": lambda c: c.batch_render(
            [("hello-world", {"name": "A"}), ("nope", {})]
        ),
    },
}
CALLS = [  # each endpoint of the table: its own call (""), then those that fail
    (e.operation_id, variant)
    for e in ENDPOINTS
    for variant in ("", *FAILING_CALLS.get(e.operation_id, ()))
]


@pytest.mark.parametrize(
    ("operation", "variant"), CALLS, ids=[f"{o} {v}".strip() for o, v in CALLS]
)
@pytest.mark.parametrize(
    "scenario", each_scenario(n for n in MOCK_SCENARIOS if n not in OUTSIDE_CONTRACT)
)
def test_every_exchange_matches_the_contract(
    mock_api: MockPromptOpsAPI, clock: FakeClock, scenario: str, operation: str, variant: str
) -> None:
    """Every endpoint of the table, called as the client calls it, in every scenario."""
    api_key = mock_api.api_key
    MOCK_SCENARIOS[scenario].api(mock_api)
    call = FAILING_CALLS[operation][variant] if variant else client_call(operation)

    async def main() -> None:
        # Failing is fine here; failing outside the contract is not.
        async with PromptOpsClient(api_key, clock=clock) as client:
            with contextlib.suppress(PromptOpsError):
                await call(client)

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:  # a trickle takes no time
        runner.run(main())
    assert mock_api.requests, "the call sent nothing"
    for request in mock_api.requests:
        found = route(request.url.raw_path.partition(b"?")[0])
        called = found and found.endpoint(request.method)
        assert called and called.operation_id == operation, f"{request!r} is not {operation}"
        check_request(request)
    for request, response in mock_api.exchanges:
        try:
            response.content  # noqa: B018 (read by the client, or not whole)
        except httpx.ResponseNotRead:  # the client gave up mid-body (a trickle, at its deadline)
            continue
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
    spec = spec_document()
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
    spec = spec_document()
    ids = [op.get("operationId") for item in spec["paths"].values() for op in item.values()]
    assert None not in ids and len(set(ids)) == len(ids)
    assert ids == [endpoint.operation_id for endpoint in ENDPOINTS]  # the mock's table


def test_the_mock_answers_every_endpoint_of_the_document() -> None:
    """A path added to the document is routed by the mock at once; this names what it still
    has to do there."""
    missing = [
        f"{e.operation_id} ({e.method} {e.path})"
        for e in ENDPOINTS
        if e.operation_id not in OPERATIONS
    ]
    assert not missing, (
        f"the OpenAPI document has endpoints the mock does not answer: {', '.join(missing)}. "
        'Implement each as a MockPromptOpsAPI method marked @operation("<operationId>") '
        "(snippets/mock_api/server.py)"
    )
    stale = sorted(OPERATIONS.keys() - {endpoint.operation_id for endpoint in ENDPOINTS})
    assert not stale, f"the mock answers operations the OpenAPI document does not have: {stale}"


def test_the_client_calls_every_endpoint_of_the_document() -> None:
    documented = [endpoint.operation_id for endpoint in ENDPOINTS]
    assert [op for op in documented if op not in CLIENT_CALLS] == [], (
        "add the client method that calls each to CLIENT_CALLS in tests/contract.py"
    )
    assert CLIENT_CALLS.keys() <= set(documented)
    assert FAILING_CALLS.keys() <= set(documented)


def test_a_body_over_the_limit_is_answered_within_the_contract(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    for path in ("/v1/client/prompts/hello-world/render", "/v1/client/prompts/batch-render"):
        response = mock_api.handle(signed(clock, mock_api.api_key, "POST", path, body))
        assert response.status_code == 413
        check_response(*mock_api.exchanges[-1])


def test_the_documented_limits_are_the_mock_s() -> None:
    spec = spec_document()
    assert f"({MAX_BODY_BYTES} bytes)" in spec["components"]["responses"]["TooLarge"]["description"]
    page = " ".join((SPEC_PATH.parent / "api-contract.md").read_text().split())  # unwrapped
    assert f"over 1 MiB ({MAX_BODY_BYTES} bytes)" in page
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in page
