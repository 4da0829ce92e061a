"""What the schema language cannot say, as the OpenAPI document states it in `x-promptops`
(and docs/reference/api-contract.md shows, generated from it): the mock API and the client are
held to each rule here, read from the document, so that the document, the page and the code
cannot part."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snippets.client import PromptOpsClient, ValidationError
from snippets.client.clock import FakeClock
from snippets.client.models import PROMPT_ID_PATTERN, RESERVED_PROMPT_IDS, check_prompt_id
from snippets.client.signing import sign
from snippets.common_issues.config_doctor import check_configuration
from snippets.generate import contract_rules
from snippets.mock_api import SEED_PROMPTS, MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.endpoints import ENDPOINTS
from snippets.mock_api.server import MAX_BODY_BYTES, MAX_JSON_DEPTH

from ..contract import check_response, check_unrouted, spec_document
from ..docs_blocks import ROOT
from ..test_docs_map import guide_pages, symptoms
from .test_asgi_http import call

RULES = contract_rules()
SPEC = spec_document()
BASE = "https://api.promptops.com"


def send(
    api: MockPromptOpsAPI,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    key: str | None = None,
    signed_target: str | None = None,
) -> httpx.Response:
    """`handle`'s answer to a request for `target` (a raw path, with its query), signed over
    `signed_target` (the target itself by default) with `key`, or unsigned if `key` is None."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        timestamp = int(api.clock.time())
        headers |= {
            "Authorization": f"Bearer {key}",
            "X-PromptOps-Timestamp": str(timestamp),
            "X-PromptOps-Signature": sign(key, timestamp, method, signed_target or target, body),
        }
    request = httpx.Request(method, httpx.URL(BASE + target), content=body, headers=headers)
    return api.handle(request)


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def after(
    api: MockPromptOpsAPI, scenario: Callable[..., None], *args: Any, **kwargs: Any
) -> MockPromptOpsAPI:
    """`api`, with `scenario(*args, **kwargs)` switched on."""
    scenario(*args, **kwargs)
    return api


def quota_spent(api: MockPromptOpsAPI, key: str) -> MockPromptOpsAPI:
    """`api`, with a quota of one request that `key` has just spent."""
    api.quota(1)
    health(api, key)
    return api


def health(api: MockPromptOpsAPI, key: str) -> httpx.Response:
    return send(api, "GET", "/v1/client/health", key=key)


# -- error messages --------------------------------------------------------------------------

RENDER = "/v1/client/prompts/welcome-message/render"
BATCH = "/v1/client/prompts/batch-render"


def _deep(depth: int) -> bytes:
    return b'{"variables": ' + b"[" * depth + b"]" * depth + b"}"


# One request per pinned situation (the document's words), and the mock state it needs.
Situation = Callable[[MockPromptOpsAPI, str], httpx.Response]
SITUATIONS: dict[str, Situation] = {
    "body over 1 MiB": lambda api, key: send(
        api, "POST", RENDER, b"{" + b" " * MAX_BODY_BYTES + b"}", key=key
    ),
    "a path this document does not have": lambda api, key: send(api, "GET", "/v1/nope"),
    "a method the path does not answer": lambda api, key: send(api, "GET", BATCH),
    "no key, an unknown or revoked key, or a wrong signature": lambda api, key: send(
        api, "GET", "/v1/client/health", key="not-the-key"
    ),
    "no X-PromptOps-Timestamp or X-PromptOps-Signature header": lambda api, key: api.handle(
        httpx.Request("GET", f"{BASE}/v1/client/health", headers={"Authorization": f"Bearer {key}"})
    ),
    "a timestamp more than 300 s from the server's clock": lambda api, key: health(
        after(api, api.clock_skew, 301), key
    ),
    "the key's quota spent": lambda api, key: health(quota_spent(api, key), key),
    "a body that is not JSON": lambda api, key: send(api, "POST", RENDER, b"{nope", key=key),
    "a body that is JSON but not an object": lambda api, key: send(
        api, "POST", RENDER, b"[]", key=key
    ),
    "a body nested deeper than 32 levels": lambda api, key: send(
        api, "POST", RENDER, _deep(MAX_JSON_DEPTH), key=key
    ),
    "a body holding an escaped lone surrogate": lambda api, key: send(
        api, "POST", RENDER, b'{"variables": {"name": "\\ud800"}}', key=key
    ),
    "a render without `variables`": lambda api, key: send(api, "POST", RENDER, b"{}", key=key),
    "`variables` that is not an object": lambda api, key: send(
        api, "POST", RENDER, b'{"variables": []}', key=key
    ),
    "a variable name that is not an ASCII identifier": lambda api, key: send(
        api, "POST", RENDER, b'{"variables": {"first-name": "Ada", "1x": 2}}', key=key
    ),
    "a batch whose `requests` is not a list of 1 to 50 items": lambda api, key: send(
        api, "POST", BATCH, b'{"requests": []}', key=key
    ),
    "a batch item without a string `prompt_id`": lambda api, key: send(
        api, "POST", BATCH, b'{"requests": [{"prompt_id": "hello-world"}, {}]}', key=key
    ),
    "a prompt id no prompt has (or outside the id pattern)": lambda api, key: send(
        api, "GET", "/v1/client/prompts/hello-wrold", key=key
    ),
    "variables the template uses, not given": lambda api, key: send(
        api, "POST", RENDER, b'{"variables": {}}', key=key
    ),
    "the API's gateway gave up waiting": lambda api, key: health(
        after(api, api.gateway_timeout), key
    ),
    "the API failed (500, 502, 503)": lambda api, key: health(
        after(api, api.server_error, status=502), key
    ),
}
MESSAGES = {item["situation"]: item for item in RULES["messages"]["items"]}


def pinned(message: str) -> re.Pattern[str]:
    """A pinned message as a pattern: each `{name}` stands for a value (one line, no quote)."""
    parts = re.split(r"(\{[a-z_]+\})", " ".join(message.split()))
    return re.compile(
        "".join("[^'\\n]+" if re.fullmatch(r"\{[a-z_]+\}", p) else re.escape(p) for p in parts)
    )


def test_every_pinned_situation_has_a_request_here_and_no_other() -> None:
    assert set(SITUATIONS) == set(MESSAGES)


@pytest.mark.parametrize("situation", MESSAGES)
def test_the_mock_answers_each_situation_with_its_pinned_message(
    mock_api: MockPromptOpsAPI, situation: str
) -> None:
    item = MESSAGES[situation]
    response = SITUATIONS[situation](mock_api, mock_api.api_key)
    status, code, message = error(response)
    expected = item["status"]
    assert str(status) == str(expected) or (expected == "5XX" and 500 <= status < 600), status
    assert code == item["code"]
    assert pinned(item["message"]).fullmatch(message), (message, item["message"])
    check_unrouted(*mock_api.exchanges[-1])


def test_a_pinned_message_is_a_pattern_that_can_fail() -> None:
    assert pinned("Prompt '{prompt_id}' not found").fullmatch("Prompt 'x' not found")
    assert not pinned("Prompt '{prompt_id}' not found").fullmatch("Prompt x was not found")
    assert not pinned("Rate limit exceeded").fullmatch("Rate limit exceeded (60/min)")


def test_a_batch_item_fails_with_the_message_a_single_render_gets(
    mock_api: MockPromptOpsAPI,
) -> None:
    body = b'{"requests": [{"prompt_id": "hello-wrold"}, {"prompt_id": "welcome-message"}]}'
    results = send(mock_api, "POST", BATCH, body, key=mock_api.api_key).json()["data"]["results"]
    messages = [result["error"]["message"] for result in results]
    assert pinned(MESSAGES["a prompt id no prompt has (or outside the id pattern)"]["message"])
    assert messages == [
        "Prompt 'hello-wrold' not found",
        "Missing variable(s) for prompt 'welcome-message': company, name",
    ]


def test_the_method_s_refusal_names_the_allowed_method_in_its_header(
    mock_api: MockPromptOpsAPI,
) -> None:
    response = send(mock_api, "GET", BATCH)
    assert response.headers["Allow"] == "POST"
    assert error(response) == (
        405,
        "VALIDATION_ERROR",
        "Method GET not allowed for /v1/client/prompts/batch-render; use POST",
    )


# Each guide page heading that quotes an API error (`CODE: text`) quotes a pinned message.
API_CODES = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
_QUOTED = re.compile(r"`(?P<code>[A-Z_]+): (?P<text>[^`]+)`")


# Messages the client itself writes, not the API: no contract pins them, the client's tests do.
# Each is a regular expression of the message, and a piece of the client's source that writes
# it (a test below holds the two together).
CLIENTS_OWN: dict[str, tuple[str, str]] = {
    "a deadline passed": (
        r"(GET|POST) \S+: no answer within the \d+ s deadline.*",
        "no answer within the",
    ),
    "not the API's answer": (
        r"(GET|POST) \S+ answered HTTP \d+ with a body that is not a PromptOps JSON envelope.*",
        "with a body that is not a PromptOps JSON ",
    ),
    "checked before sending": (r"Invalid variable name '[^']*'.*", "Invalid variable name"),
}


def quoted_messages(text: str) -> list[tuple[str, str]]:
    """(code, message) of every `CODE: message` code span of an API error code in `text`; a
    message cut short with `...` keeps what precedes it. Messages the client writes itself
    (`CLIENTS_OWN`) are left out."""
    return [
        (m["code"], m["text"].removesuffix("...").removesuffix("…").rstrip())
        for m in _QUOTED.finditer(text)
        if m["code"] in API_CODES
        and not any(re.fullmatch(own, m["text"]) for own, _ in CLIENTS_OWN.values())
    ]


@pytest.mark.parametrize("kind", CLIENTS_OWN)
def test_the_messages_left_out_are_the_client_s_own(kind: str) -> None:
    source = "\n".join(p.read_text("utf-8") for p in (ROOT / "snippets/client").glob("*.py"))
    assert CLIENTS_OWN[kind][1] in source


def is_pinned(code: str, text: str) -> bool:
    """Whether `text` is a pinned message of `code`, or its start (a heading may cut it)."""
    return any(
        item["code"] == code and _starts(item["message"], text) for item in MESSAGES.values()
    )


def _starts(message: str, text: str) -> bool:
    """`text` is `message`, or its start, with values in place of its `{name}` parts."""
    pattern = ""
    for part in re.split(r"(\{[a-z_]+\})", " ".join(message.split())):
        if re.fullmatch(r"\{[a-z_]+\}", part):
            pattern += "[^'\\n]+"
            if re.fullmatch(pattern, text):
                return True
            continue
        if any(re.fullmatch(pattern + re.escape(part[:cut]), text) for cut in range(len(part))):
            return bool(pattern or text)
        pattern += re.escape(part)
    return re.fullmatch(pattern, text) is not None


@pytest.mark.parametrize("page", guide_pages(), ids=lambda p: p.name)
def test_headings_quote_only_pinned_messages(page: Any) -> None:
    """A page may put an API error's text in a heading (readers paste it into search): only a
    text the contract pins, so that any API keeping the contract prints it."""
    unpinned = [
        f"{s.where}: `{code}: {text}`"
        for s in symptoms(page)
        for code, text in quoted_messages(f"`{s.text}`")
        if not is_pinned(code, text)
    ]
    assert not unpinned, "messages the contract does not pin:\n" + "\n".join(unpinned)


def test_a_heading_with_an_unpinned_message_is_found() -> None:
    assert is_pinned("PROMPT_NOT_FOUND", "Prompt 'hello-wrold' not found")
    assert is_pinned("VALIDATION_ERROR", "Missing variable(s) for prompt")
    assert is_pinned("RATE_LIMIT_ERROR", "Rate limit exceeded")
    assert not is_pinned("RATE_LIMIT_ERROR", "Too many requests")
    assert not is_pinned("AUTHENTICATION_ERROR", "Rate limit exceeded")
    assert quoted_messages("`NETWORK_ERROR: Could not reach x` `SERVER_ERROR: boom`") == [
        ("SERVER_ERROR", "boom")
    ]


# -- the order of checks ---------------------------------------------------------------------

BAD_JSON = b"{nope"
UNKNOWN = "/v1/client/prompts/hello-wrold/render"
# For each check, a request that fails it and every check after it, but none before.
FAILS_FROM: dict[str, Callable[[MockPromptOpsAPI, str], httpx.Response]] = {
    "size": lambda api, key: send(api, "PUT", "/v1/nope", b"[" * (MAX_BODY_BYTES + 1)),
    "route": lambda api, key: send(api, "PUT", "/v1/nope", BAD_JSON),
    "method": lambda api, key: send(api, "GET", UNKNOWN),
    "authentication": lambda api, key: send(quota_spent(api, key), "POST", UNKNOWN, BAD_JSON),
    "rate limit": lambda api, key: send(quota_spent(api, key), "POST", UNKNOWN, BAD_JSON, key=key),
    "body": lambda api, key: send(api, "POST", UNKNOWN, b"{}", key=key),
    "prompt": lambda api, key: send(api, "POST", UNKNOWN, b'{"variables": {}}', key=key),
    "variables": lambda api, key: send(api, "POST", RENDER, b'{"variables": {}}', key=key),
}
STEPS = RULES["order"]["steps"]


def test_the_order_has_a_request_for_each_check_in_the_document_s_order() -> None:
    assert list(FAILS_FROM) == [step["check"] for step in STEPS]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s["check"])
def test_the_first_check_that_fails_answers(mock_api: MockPromptOpsAPI, step: Any) -> None:
    status, code = step["refuses"].split()
    response = FAILS_FROM[step["check"]](mock_api, mock_api.api_key)
    assert error(response)[:2] == (int(status), code)


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [
        ("GET", "/v1/nope", 404),  # unsigned: the route is checked first
        ("POST", "/v1/client/prompts/batch-render/render", 401),  # an id, once signed: 404
        ("GET", "/v1/health", 200),  # no authentication
        ("GET", "/v1/%68ealth", 200),  # the same path, percent-encoded: no authentication
    ],
)
def test_unsigned_requests_get_the_answer_of_the_first_check_they_fail(
    mock_api: MockPromptOpsAPI, method: str, target: str, status: int
) -> None:
    assert send(mock_api, method, target).status_code == status


# -- prompt ids ------------------------------------------------------------------------------

PROMPT_ID_SCHEMA = SPEC["components"]["parameters"]["PromptId"]["schema"]


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """`pattern` as JSON Schema means it, an ECMA-262 regular expression: there `$` ends the
    text, where Python's `$`, which jsonschema uses, also matches before a final line break
    (`^[A-Za-z0-9]...$` took `"0\\n"`, which the client rightly refuses)."""
    if validator.is_type(instance, "string"):
        ecma = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)
        if not re.search(ecma, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


ECMA_VALIDATOR = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
)


def contract_allows(prompt_id: str) -> bool:
    return bool(ECMA_VALIDATOR(PROMPT_ID_SCHEMA).is_valid(prompt_id))


def client_allows(prompt_id: str) -> bool:
    try:
        check_prompt_id(prompt_id)
    except ValidationError:
        return False
    return True


def test_the_client_s_id_rules_are_the_document_s() -> None:
    assert f"^{PROMPT_ID_PATTERN.pattern}$" == PROMPT_ID_SCHEMA["pattern"]
    assert set(PROMPT_ID_SCHEMA["not"]["enum"]) == RESERVED_PROMPT_IDS


@pytest.mark.parametrize(
    "prompt_id",
    [
        "hello-world",
        "batch-render",
        "Batch-Render",
        "batch-render2",
        "batch_render",
        "a" * 128,
        "a" * 129,
        "-x",
        "x y",
        "é",
        "",
        "0\n",  # Hypothesis's: a final line break, which Python's `$` lets through
    ],
)
def test_the_client_refuses_exactly_the_ids_the_contract_refuses(prompt_id: str) -> None:
    assert client_allows(prompt_id) == contract_allows(prompt_id)


@given(st.one_of(st.text(max_size=130), st.from_regex(PROMPT_ID_PATTERN, fullmatch=True)))
def test_the_client_and_the_contract_agree_on_any_id(prompt_id: str) -> None:
    assert client_allows(prompt_id) == contract_allows(prompt_id)


def test_get_prompt_of_the_reserved_id_sends_nothing(mock_api: MockPromptOpsAPI) -> None:
    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            with pytest.raises(ValidationError, match="reserved"):
                await client.get_prompt("batch-render")

    asyncio.run(main())
    assert mock_api.requests == []


@pytest.mark.parametrize(
    ("target", "status", "answer"),
    [
        ("/v1/client/prompts/hello%2Dworld", 200, "hello-world"),
        ("/v1/client/prompts/hello%2dworld", 200, "hello-world"),
        ("/v1/client/%70rompts/hello-world", 200, "hello-world"),
        ("/v1/client/prompts/hello%2Fworld", 404, "Prompt 'hello/world' not found"),
        ("/v1/client/prompts/Hello-World", 404, "Prompt 'Hello-World' not found"),
        ("/v1/client/prompts/batch%2Drender", 405, "use POST"),
    ],
)
def test_ids_in_paths_are_compared_percent_decoded(
    mock_api: MockPromptOpsAPI, target: str, status: int, answer: str
) -> None:
    response = send(mock_api, "GET", target, key=mock_api.api_key)
    assert response.status_code == status
    if status == 200:
        assert response.json()["data"]["id"] == answer
    else:
        assert answer in response.json()["error"]["message"]
    check_unrouted(*mock_api.exchanges[-1])


# -- templates -------------------------------------------------------------------------------

TEMPLATES = RULES["templates"]


def render(api: MockPromptOpsAPI, template: str, variables: bytes) -> str:
    api.prompts["t"] = {"name": "T", "template": template, "version": 1}
    body = b'{"variables": ' + variables + b"}"
    response = send(api, "POST", "/v1/client/prompts/t/render", body, key=api.api_key)
    assert response.status_code == 200, response.text
    content: str = response.json()["data"]["content"]
    return content


@pytest.mark.parametrize("example", TEMPLATES["syntax-examples"], ids=lambda e: e[0])
def test_templates_render_as_the_contract_s_syntax_examples(
    mock_api: MockPromptOpsAPI, example: list[str]
) -> None:
    template, variables, shown = example
    assert render(mock_api, template, variables.encode()) == shown


@pytest.mark.parametrize(
    "example",
    [(value["type"], *example) for value in TEMPLATES["values"] for example in value["examples"]],
    ids=lambda e: f"{e[0]}: {e[1]}",
)
def test_each_json_type_renders_as_the_contract_says(
    mock_api: MockPromptOpsAPI, example: tuple[str, str, str]
) -> None:
    _, sent, shown = example
    assert render(mock_api, "<{{v}}>", b'{"v": ' + sent.encode() + b"}") == f"<{shown}>"


def test_a_template_s_variables_are_its_placeholders_sorted_once(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.prompts["t"] = {"name": "T", "template": "{{b}} {{ a }} {{b}} {{\tc}}", "version": 1}
    answer = send(mock_api, "GET", "/v1/client/prompts/t", key=mock_api.api_key).json()
    assert answer["data"]["variables"] == ["a", "b"]


# -- the key, signing, the example prompts ---------------------------------------------------


@pytest.mark.parametrize("key", ["k", "sk-live-0123", "opaque.key/9+=", "PO_UPPER"])
def test_any_key_shape_is_accepted_and_no_tool_warns_about_it(key: str) -> None:
    api = MockPromptOpsAPI(api_key=key, clock=FakeClock())
    assert send(api, "GET", "/v1/client/health", key=key).status_code == 200
    report = asyncio.run(check_configuration({"PROMPTOPS_API_KEY": key}))
    (api_key,) = [finding for finding in report.findings if finding.id == "api-key"]
    assert api_key.status == "ok", api_key


@pytest.mark.parametrize(
    ("sent", "signed", "status"),
    [
        ("/v1/client/health?", "/v1/client/health?", 200),
        ("/v1/client/health?", "/v1/client/health", 200),
        ("/v1/client/health", "/v1/client/health?", 200),
        ("/v1/client/health?a=1", "/v1/client/health?a=1", 200),
        ("/v1/client/health?a=1", "/v1/client/health", 401),
        ("/v1/client/health", "/v1/client/health?a=1", 401),
    ],
)
def test_an_empty_query_may_be_signed_with_or_without_its_question_mark(
    mock_api: MockPromptOpsAPI, sent: str, signed: str, status: int
) -> None:
    response = send(mock_api, "GET", sent, key=mock_api.api_key, signed_target=signed)
    assert response.status_code == status


def test_a_request_signed_over_an_empty_query_passes_the_served_mock(
    mock_api: MockPromptOpsAPI,
) -> None:
    """Over HTTP the adapter gets the path and an empty query string: the `?` is gone."""
    key, timestamp = mock_api.api_key, int(mock_api.clock.time())
    headers = [
        (b"authorization", f"Bearer {key}".encode()),
        (b"x-promptops-timestamp", str(timestamp).encode()),
        (b"x-promptops-signature", sign(key, timestamp, "GET", "/v1/client/health?", b"").encode()),
    ]
    answer = call(MockASGIApp(mock_api), raw_path=b"/v1/client/health", headers=headers)
    assert answer.status == 200, answer.json


def test_the_mock_holds_exactly_the_example_prompts() -> None:
    documented = {
        prompt["id"]: {k: " ".join(str(v).split()) for k, v in prompt.items() if k != "id"}
        for prompt in RULES["example-prompts"]["prompts"]
    }
    seeded = {
        pid: {k: " ".join(str(v).split()) for k, v in prompt.items()}
        for pid, prompt in SEED_PROMPTS.items()
    }
    assert seeded == documented
    assert list(MockPromptOpsAPI(clock=FakeClock()).prompts) == list(documented)


def test_every_example_in_the_document_is_valid_and_the_mock_s_own_answer(
    mock_api: MockPromptOpsAPI,
) -> None:
    """A server generated from the document answers with its examples: each must be valid
    against its own schema, and the mock's answer to the same request."""
    key = mock_api.api_key
    schemas = SPEC["components"]["schemas"]
    for endpoint in ENDPOINTS:
        operation = SPEC["paths"][endpoint.path][endpoint.method.lower()]
        method, target = endpoint.method, endpoint.target(prompt_id="hello-world")
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        example = schemas[ok.rsplit("/", 1)[1]]["example"]
        body = operation.get("requestBody")
        sent = b""
        if body:
            ref = body["content"]["application/json"]["schema"]["$ref"]
            sent = json.dumps(schemas[ref.rsplit("/", 1)[1]]["example"]).encode()
        answer = send(mock_api, method, target, sent, key=key)
        assert answer.json() == example, operation["operationId"]
        response = httpx.Response(
            200,
            json=example,
            headers={
                "X-Request-Id": SPEC["components"]["headers"]["RequestId"]["example"],
                "Date": SPEC["components"]["headers"]["Date"]["example"],
            },
        )
        check_response(mock_api.exchanges[-1][0], response)
    for name, response in SPEC["components"]["responses"].items():
        example = response["content"]["application/json"]["example"]
        schema = response["content"]["application/json"]["schema"]["$ref"]
        validator = jsonschema.Draft202012Validator({"$ref": schema, **SPEC})
        validator.validate(example)
        assert pinned_message_of(example["error"]["message"]), (name, example)


def pinned_message_of(message: str) -> bool:
    return any(pinned(item["message"]).fullmatch(message) for item in MESSAGES.values())
