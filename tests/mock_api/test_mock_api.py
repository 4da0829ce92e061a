"""The mock API enforces the contract for real: a client that gets it wrong is refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis.vendor.pretty import pretty

from snippets.client import NetworkError, PromptOpsAuth, PromptOpsClient
from snippets.client.clock import FakeClock
from snippets.client.signing import sign
from snippets.mock_api import MockPromptOpsAPI

from ..in_memory import TLS

BASE = "https://api.promptops.com"


def send(request: httpx.Request) -> httpx.Response:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient(verify=TLS) as http:
            return await http.send(request)

    return asyncio.run(main())


def signed(
    api: MockPromptOpsAPI,
    method: str,
    path: str,
    body: Any = None,
    *,
    at: float | None = None,
    key: str | None = None,
) -> httpx.Request:
    """A request signed correctly: with the mock's key, or `key`."""
    key = api.api_key if key is None else key
    content = b"" if body is None else json.dumps(body).encode()
    timestamp = int(api.clock.time() if at is None else at)
    return httpx.Request(
        method,
        BASE + path,
        content=content,
        headers={
            "Authorization": f"Bearer {key}",
            "X-PromptOps-Timestamp": str(timestamp),
            "X-PromptOps-Signature": sign(key, timestamp, method, path, content),
        },
    )


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert body["success"] is False
    return response.status_code, body["error"]["code"]


def test_public_health_needs_no_key(mock_api: MockPromptOpsAPI) -> None:
    response = send(httpx.Request("GET", f"{BASE}/v1/health"))
    assert response.json() == {"success": True, "data": {"status": "healthy"}}


def test_a_correctly_signed_request_is_answered(mock_api: MockPromptOpsAPI) -> None:
    response = send(signed(mock_api, "GET", "/v1/client/prompts/hello-world"))
    assert response.status_code == 200
    assert response.json()["data"]["variables"] == ["name"]
    assert "Date" in response.headers and response.headers["X-Request-Id"] == "req_000001"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.headers.pop("Authorization"),
        lambda r: r.headers.__setitem__("Authorization", "Bearer po_other"),
        lambda r: r.headers.pop("X-PromptOps-Signature"),
        lambda r: r.headers.__setitem__("X-PromptOps-Signature", "v1=" + "0" * 64),
        lambda r: r.headers.__setitem__("X-PromptOps-Timestamp", "yesterday"),
    ],
)
def test_bad_credentials_are_refused(mock_api: MockPromptOpsAPI, tamper: Any) -> None:
    request = signed(mock_api, "GET", "/v1/client/health")
    tamper(request)
    assert error_of(send(request)) == (401, "AUTHENTICATION_ERROR")


def test_signature_covers_the_body(mock_api: MockPromptOpsAPI) -> None:
    request = signed(mock_api, "POST", "/v1/client/prompts/hello-world/render", {"variables": {}})
    forged = httpx.Request(
        "POST",
        request.url,
        headers=request.headers,
        content=json.dumps({"variables": {"name": "Mallory"}}).encode(),
    )
    assert error_of(send(forged)) == (401, "AUTHENTICATION_ERROR")


@pytest.mark.parametrize(("offset", "accepted"), [(-300, True), (300, True), (301, False)])
def test_timestamp_window_is_300_seconds(
    mock_api: MockPromptOpsAPI, clock: FakeClock, offset: int, accepted: bool
) -> None:
    response = send(signed(mock_api, "GET", "/v1/client/health", at=clock.time() + offset))
    assert (response.status_code == 200) is accepted


def test_render_and_missing_variables(mock_api: MockPromptOpsAPI) -> None:
    path = "/v1/client/prompts/welcome-message/render"
    ok = send(signed(mock_api, "POST", path, {"variables": {"name": "Ada", "company": "Acme"}}))
    assert ok.json()["data"]["content"] == "Welcome to Acme, Ada! We're glad you're here."
    missing = send(signed(mock_api, "POST", path, {"variables": {"name": "Ada"}}))
    assert error_of(missing) == (422, "VALIDATION_ERROR")
    assert "company" in missing.json()["error"]["message"]


def test_unknown_prompt_is_404(mock_api: MockPromptOpsAPI) -> None:
    response = send(signed(mock_api, "GET", "/v1/client/prompts/nope"))
    assert error_of(response) == (404, "PROMPT_NOT_FOUND")


def test_batch_render_reports_each_item(mock_api: MockPromptOpsAPI) -> None:
    body = {
        "requests": [
            {"prompt_id": "hello-world", "variables": {"name": "Ada"}},
            {"prompt_id": "nope", "variables": {}},
        ]
    }
    response = send(signed(mock_api, "POST", "/v1/client/prompts/batch-render", body))
    assert response.json()["data"]["results"] == [
        {"prompt_id": "hello-world", "content": "Hello, Ada!"},
        {
            "prompt_id": "nope",
            "error": {"code": "PROMPT_NOT_FOUND", "message": "Prompt 'nope' not found"},
        },
    ]


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([{"prompt_id": 7}], "requests[0] needs a string 'prompt_id'"),
        ([{"variables": {}}], "requests[0] needs a string 'prompt_id'"),
        (["hello-world"], "requests[0] needs a string 'prompt_id'"),
        (
            [{"prompt_id": "hello-world"}, {"prompt_id": "nope", "variables": []}],
            "'requests[1].variables' must be a JSON object",
        ),
        ([{"prompt_id": "hello-world", "variables": {"a-b": 1}}], "Invalid variable name(s): a-b"),
    ],
)
def test_a_batch_that_breaks_the_request_schema_is_refused_whole(
    mock_api: MockPromptOpsAPI, requests: list[Any], message: str
) -> None:
    """Answering 200 (and echoing a non-string prompt_id) would break the response schema."""
    body = {"requests": requests}
    response = send(signed(mock_api, "POST", "/v1/client/prompts/batch-render", body))
    assert error_of(response) == (422, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == message


def test_render_needs_variables(mock_api: MockPromptOpsAPI) -> None:
    response = send(signed(mock_api, "POST", "/v1/client/prompts/hello-world/render", {}))
    assert error_of(response) == (422, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == "'variables' is required"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/client/prompts/hello-world", "GET"),
        ("POST", "/v1/client/prompts", "GET"),
        ("GET", "/v1/client/prompts/hello-world/render", "POST"),
        ("PUT", "/v1/health", "GET"),
    ],
)
def test_an_undeclared_method_is_405_with_allow_before_authentication(
    mock_api: MockPromptOpsAPI, method: str, path: str, allow: str
) -> None:
    response = send(httpx.Request(method, BASE + path))  # unsigned: routing comes first
    assert error_of(response) == (405, "VALIDATION_ERROR")
    assert response.headers["Allow"] == allow


def test_an_unknown_path_is_404_prompt_not_found_the_code_of_404(
    mock_api: MockPromptOpsAPI,
) -> None:
    response = send(signed(mock_api, "GET", "/v1/client/nothing-here"))
    assert error_of(response) == (404, "PROMPT_NOT_FOUND")
    assert response.json()["error"]["message"] == "No endpoint /v1/client/nothing-here"


def test_a_revoked_extra_key_is_refused(mock_api: MockPromptOpsAPI) -> None:
    second = "po_live_second_key_4d1e"
    mock_api.add_key(second)
    assert send(signed(mock_api, "GET", "/v1/client/health", key=second)).status_code == 200
    mock_api.revoke_key(second)
    assert error_of(send(signed(mock_api, "GET", "/v1/client/health", key=second))) == (
        401,
        "AUTHENTICATION_ERROR",
    )
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200  # the first


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Request body must be a JSON object"),
        (
            {"requests": [{"prompt_id": "hello-world"}]},
            "{'results': [{'prompt_id': 'hello-world', 'error': {'code': 'VALIDATION_ERROR', "
            "'message': \"Missing variable(s) for prompt 'hello-world': name\"}}]}",
        ),
    ],
    ids=["a list", "an item without variables"],
)
def test_bodies_the_client_never_sends_are_refused_with_a_reason(
    mock_api: MockPromptOpsAPI, body: Any, message: str
) -> None:
    path = (
        "/v1/client/prompts/batch-render"
        if isinstance(body, dict)
        else "/v1/client/prompts/hello-world/render"
    )
    answer = send(signed(mock_api, "POST", path, body)).json()
    shown = answer["error"]["message"] if not answer["success"] else str(answer["data"])
    assert shown == message


def test_invalid_json_body_is_422(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    path = "/v1/client/prompts/hello-world/render"
    timestamp = int(clock.time())
    request = httpx.Request(
        "POST",
        BASE + path,
        content=b"{not json",
        headers={
            "Authorization": f"Bearer {mock_api.api_key}",
            "X-PromptOps-Timestamp": str(timestamp),
            "X-PromptOps-Signature": sign(mock_api.api_key, timestamp, "POST", path, b"{not json"),
        },
    )
    response = send(request)
    assert error_of(response) == (422, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == "Request body is not valid JSON"


def test_rate_limit_scenario_sets_body_and_header(mock_api: MockPromptOpsAPI) -> None:
    mock_api.rate_limit(times=1, retry_after=60)
    first = send(signed(mock_api, "GET", "/v1/client/health"))
    assert error_of(first) == (429, "RATE_LIMIT_ERROR")
    assert first.json()["error"]["retry_after"] == 60
    assert first.headers["Retry-After"] == "60"
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200


def test_faults_can_target_one_path(mock_api: MockPromptOpsAPI) -> None:
    mock_api.server_error(times=1, status=500, path="/v1/client/prompts")
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200
    assert send(signed(mock_api, "GET", "/v1/client/prompts")).status_code == 500


def test_latency_moves_the_mock_clock(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    mock_api.simulate_latency(0.25)
    before = clock.monotonic()
    send(signed(mock_api, "GET", "/v1/client/health"))
    assert clock.monotonic() - before == pytest.approx(0.25)


def test_scenario_block_resets_faults(mock_api: MockPromptOpsAPI) -> None:
    with mock_api.scenario():
        mock_api.rate_limit(times=5)
        mock_api.simulate_latency(1)
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200
    assert mock_api.latency == 0


def test_other_hosts_are_not_reachable(mock_api: MockPromptOpsAPI) -> None:
    with pytest.raises(Exception, match="not mocked"):
        send(httpx.Request("GET", "https://example.com/"))


def test_nothing_listens_where_it_says_and_the_api_still_answers(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A client pointed at localhost:8080 (inside a container: the container) is refused, as
    by a real closed port; the API answers where it always does."""
    mock_api.nothing_listens_at("http://localhost:8080")

    async def reach(base_url: str | None) -> str:
        client = PromptOpsClient(base_url=base_url, max_retries=0, clock=clock)
        try:
            async with client:
                return (await client.health_check()).status
        except NetworkError as exc:
            return str(exc)

    assert asyncio.run(reach("http://localhost:8080")) == (
        "NETWORK_ERROR: Could not reach http://localhost:8080: [Errno 111] Connection refused"
    )
    assert asyncio.run(reach(None)) == "healthy"
    with pytest.raises(Exception, match="not mocked"):  # another port: no one said so
        send(httpx.Request("GET", "http://localhost:8081/v1/health"))


def test_nothing_listens_is_a_scenario_reset_with_the_others(mock_api: MockPromptOpsAPI) -> None:
    with mock_api.scenario():
        mock_api.nothing_listens_at("http://localhost:8080")
        with pytest.raises(httpx.ConnectError):
            send(httpx.Request("GET", "http://localhost:8080/v1/health"))
    with pytest.raises(Exception, match="not mocked"):
        send(httpx.Request("GET", "http://localhost:8080/v1/health"))


def test_nothing_listens_before_the_mock_is_mounted_holds_once_it_is(clock: FakeClock) -> None:
    api = MockPromptOpsAPI(clock=clock, base_url="https://api.promptops.com")
    api.nothing_listens_at("http://127.0.0.1:8080")
    with api, pytest.raises(httpx.ConnectError, match="Connection refused"):
        send(httpx.Request("GET", "http://127.0.0.1:8080/v1/health"))


def test_nothing_listens_at_the_api_s_own_address_is_refused(mock_api: MockPromptOpsAPI) -> None:
    with pytest.raises(ValueError, match="use connection_refused"):
        mock_api.nothing_listens_at("https://api.promptops.com:443/v1")


def test_client_auth_flow_is_accepted(mock_api: MockPromptOpsAPI, clock: FakeClock) -> None:
    async def main() -> int:
        auth = PromptOpsAuth(mock_api.api_key, clock)
        async with httpx.AsyncClient(base_url=BASE, auth=auth) as http:
            response = await http.get("/v1/client/prompts", params={"limit": "10"})
            return response.status_code

    assert asyncio.run(main()) == 200


@pytest.mark.parametrize(
    ("switch_on", "first"),
    [
        (lambda api: api.rate_limit(), (429, "RATE_LIMIT_ERROR")),
        (lambda api: api.server_error(), (503, "SERVER_ERROR")),
        (lambda api: api.gateway_timeout(), (504, "TIMEOUT_ERROR")),
    ],
)
def test_each_answer_fault_happens_once_by_default(
    mock_api: MockPromptOpsAPI, switch_on: Any, first: tuple[int, str]
) -> None:
    switch_on(mock_api)
    assert error_of(send(signed(mock_api, "GET", "/v1/client/health"))) == first
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200


def test_rate_limit_defaults_to_retry_after_2_in_body_and_header(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.rate_limit()
    response = send(signed(mock_api, "GET", "/v1/client/health"))
    assert response.json()["error"]["retry_after"] == 2
    assert response.headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    ("switch_on", "error"),
    [
        (lambda api: api.timeout(), httpx.ReadTimeout),
        (lambda api: api.connect_timeout(), httpx.ConnectTimeout),
        (lambda api: api.connection_refused(), httpx.ConnectError),
    ],
)
def test_each_transport_fault_happens_once_by_default(
    mock_api: MockPromptOpsAPI, switch_on: Any, error: type[Exception]
) -> None:
    switch_on(mock_api)
    with pytest.raises(error):
        send(signed(mock_api, "GET", "/v1/client/health"))
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200


def test_timeouts_spend_the_client_s_timeout_on_the_clock(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.timeout()
    request = signed(mock_api, "GET", "/v1/client/health")
    request.extensions["timeout"] = {"connect": 1.0, "read": 7.5}
    before = clock.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        send(request)
    assert clock.monotonic() - before == pytest.approx(7.5)


def test_malformed_body_defaults_to_a_truncated_200(mock_api: MockPromptOpsAPI) -> None:
    mock_api.malformed_body()
    response = send(signed(mock_api, "GET", "/v1/client/health"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"success": true, "data": {"id": "hello-wor'
    assert send(signed(mock_api, "GET", "/v1/client/health")).json()["success"] is True


def test_reset_forgets_scenarios_and_requests(mock_api: MockPromptOpsAPI) -> None:
    mock_api.server_error(times=5)
    mock_api.clock_skew(1000)
    send(signed(mock_api, "GET", "/v1/client/health"))
    mock_api.reset()
    assert mock_api.requests == [] and mock_api.exchanges == []
    assert send(signed(mock_api, "GET", "/v1/client/health")).status_code == 200


def test_trickle_sends_the_api_s_own_answer_a_byte_per_interval_once_by_default(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """The body is the API's answer (a 401 here: the key is checked as usual), read byte by
    byte on the event loop's clock; the next request is answered whole."""
    mock_api.trickle(interval=0.5)

    async def main() -> tuple[httpx.Response, list[bytes], float]:
        async with httpx.AsyncClient(verify=TLS) as http:
            request = httpx.Request("GET", BASE + "/v1/client/health")
            async with http.stream("GET", request.url) as response:
                started = asyncio.get_running_loop().time()
                chunks = [chunk async for chunk in response.aiter_raw()]
                spent = asyncio.get_running_loop().time() - started
            return await http.send(signed(mock_api, "GET", "/v1/client/health")), chunks, spent

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        after, chunks, spent = runner.run(main())
    body = b"".join(chunks)
    assert json.loads(body)["error"]["code"] == "AUTHENTICATION_ERROR"
    assert {len(chunk) for chunk in chunks} == {1}
    assert spent == pytest.approx(0.5 * len(body))
    assert after.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/v1/client/prompts/welcome-message/render",
            {"variables": {}},
            "Missing variable(s) for prompt 'welcome-message': company, name",
        ),
        (
            "/v1/client/prompts/hello-world/render",
            {"variables": {"a-b": "x", "c d": "y", "name": "Ada"}},
            "Invalid variable name(s): a-b, c d",
        ),
        (
            "/v1/client/prompts/hello-world/render",
            {"variables": ["Ada"]},
            "'variables' must be a JSON object",
        ),
        ("/v1/client/prompts/hello-world/render", None, "'variables' is required"),
        (
            "/v1/client/prompts/batch-render",
            {"requests": {"prompt_id": "hello-world"}},
            "'requests' must be a list of 1 to 50 items",
        ),
        (
            "/v1/client/prompts/batch-render",
            {"requests": []},
            "'requests' must be a list of 1 to 50 items",
        ),
        (
            "/v1/client/prompts/batch-render",
            {"requests": [{"prompt_id": "hello-world", "variables": {"name": "A"}}] * 51},
            "'requests' must be a list of 1 to 50 items",
        ),
    ],
    ids=[
        "missing variables",
        "invalid names",
        "variables not an object",
        "no body",
        "requests not a list",
        "no requests",
        "too many requests",
    ],
)
def test_each_refusal_says_exactly_what_is_wrong(
    mock_api: MockPromptOpsAPI, path: str, body: Any, message: str
) -> None:
    """Every name, in order, so that one answer fixes all of them. (No body at all reads as
    `{}`.)"""
    response = send(signed(mock_api, "POST", path, body))
    assert error_of(response) == (422, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == message


def test_fifty_requests_are_a_batch_the_api_takes(mock_api: MockPromptOpsAPI) -> None:
    body = {"requests": [{"prompt_id": "hello-world", "variables": {"name": "A"}}] * 50}
    response = send(signed(mock_api, "POST", "/v1/client/prompts/batch-render", body))
    assert len(response.json()["data"]["results"]) == 50


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Ada", "Hello, Ada!"), (42, "Hello, 42!"), ({"first": "Ada"}, 'Hello, {"first": "Ada"}!')],
)
def test_a_value_that_is_not_text_is_rendered_as_its_json(
    mock_api: MockPromptOpsAPI, value: Any, shown: str
) -> None:
    path = "/v1/client/prompts/hello-world/render"
    response = send(signed(mock_api, "POST", path, {"variables": {"name": value}}))
    assert response.json()["data"]["content"] == shown


@pytest.mark.parametrize(
    ("switch_on", "message"),
    [
        (lambda api: api.timeout(), "timed out"),
        (lambda api: api.connect_timeout(), "timed out"),
        (lambda api: api.connection_refused(), "[Errno 111] Connection refused"),
    ],
)
def test_a_transport_fault_is_raised_as_httpx_raises_it(
    mock_api: MockPromptOpsAPI, switch_on: Any, message: str
) -> None:
    """With the request it happened to and the words a real one says: code that reads
    `exc.request` works on the mock as on the network."""
    switch_on(mock_api)
    request = signed(mock_api, "GET", "/v1/client/health")
    with pytest.raises(httpx.TransportError) as caught:
        send(request)
    assert str(caught.value) == message
    assert caught.value.request is request


def test_a_timeout_without_a_client_timeout_spends_five_seconds(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    """A client with `timeout=None` would wait for ever; the mock gives up after 5 s."""
    mock_api.timeout()
    request = signed(mock_api, "GET", "/v1/client/health")
    request.extensions["timeout"] = {"connect": None, "read": None}
    with pytest.raises(httpx.ReadTimeout):
        send(request)
    assert clock.monotonic() == 5.0


def test_trickle_sends_a_byte_a_second_by_default(
    mock_api: MockPromptOpsAPI, clock: FakeClock
) -> None:
    mock_api.trickle()

    async def main() -> float:
        async with httpx.AsyncClient(verify=TLS) as http:
            started = asyncio.get_running_loop().time()
            response = await http.send(signed(mock_api, "GET", "/v1/client/health"))
            assert response.status_code == 200
            return (asyncio.get_running_loop().time() - started) / len(response.content)

    with asyncio.Runner(loop_factory=clock.event_loop) as runner:
        assert runner.run(main()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("X-PromptOps-Timestamp", "Missing X-PromptOps-Timestamp or X-PromptOps-Signature header"),
        ("X-PromptOps-Signature", "Missing X-PromptOps-Timestamp or X-PromptOps-Signature header"),
        (None, "Invalid API key or signature"),
    ],
    ids=["no timestamp", "no signature", "a signature of other bytes"],
)
def test_a_refused_signature_says_what_is_missing_or_wrong(
    mock_api: MockPromptOpsAPI, drop: str | None, message: str
) -> None:
    request = signed(mock_api, "GET", "/v1/client/health")
    if drop is None:
        request.headers["X-PromptOps-Signature"] = "v1=" + "0" * 64
    else:
        del request.headers[drop]
    response = send(request)
    assert error_of(response) == (401, "AUTHENTICATION_ERROR")
    assert response.json()["error"]["message"] == message


def test_the_mock_shows_what_it_holds_and_never_its_key() -> None:
    """In a REPL, a notebook or a Hypothesis failure report: prompts and requests, not the key
    nor every field of the dataclass."""
    api = MockPromptOpsAPI()
    shown = (
        "MockPromptOpsAPI(base_url='https://api.promptops.com', prompts=['hello-world', "
        "'welcome-message', 'customer-service'], requests=0, api_key='***')"
    )
    assert repr(api) == pretty(api) == shown
