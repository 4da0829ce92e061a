"""The OpenAPI contract (docs/reference/openapi.yaml), and httpx adapters for openapi-core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import httpx
import jsonschema
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

from snippets.client import PromptOpsClient
from snippets.mock_api import endpoints

from .docs_blocks import ROOT

SPEC_PATH = ROOT / "docs/reference/openapi.yaml"

Call = Callable[[PromptOpsClient], Awaitable[Any]]

CLIENT_CALLS: dict[str, Call] = {
    "getPublicHealth": lambda c: c.probe(),
    "getClientHealth": lambda c: c.health_check(),
    "listPrompts": lambda c: c.list_prompts(),
    "getPrompt": lambda c: c.get_prompt("hello-world"),
    "renderPrompt": lambda c: c.render_prompt("hello-world", {"name": "Ada"}),
    "batchRender": lambda c: c.batch_render([("hello-world", {"name": "Ada"})]),
}
"""How the client calls each endpoint (by `operationId`), as a reader would. The contract test
and the fault matrix iterate the mock's table, `ENDPOINTS` (snippets/mock_api/endpoints.py),
and call each endpoint this way: a test fails while one has no call here."""


def client_call(operation_id: str) -> Call:
    """`CLIENT_CALLS[operation_id]`, or an error that says where to add it."""
    try:
        return CLIENT_CALLS[operation_id]
    except KeyError:
        raise LookupError(
            f"the OpenAPI document's {operation_id} has no client call: add the client method "
            "that calls it to CLIENT_CALLS in tests/contract.py"
        ) from None


@cache
def contract() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_PATH))


class OpenAPIRequest:
    """An `httpx.Request` as openapi-core reads requests."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
        )

    @property
    def host_url(self) -> str:
        return f"{self._request.url.scheme}://{self._request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "")).lower()


class OpenAPIResponse:
    """An `httpx.Response` as openapi-core reads responses."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Any:
        return Headers(list(self._response.headers.items()))

    @property
    def data(self) -> bytes:
        return self._response.content

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()


def check_request(request: httpx.Request) -> None:
    contract().validate_request(OpenAPIRequest(request))


def check_response(request: httpx.Request, response: httpx.Response) -> None:
    contract().validate_response(OpenAPIRequest(request), OpenAPIResponse(response))


def check_unrouted(request: httpx.Request, response: httpx.Response) -> None:
    """`check_response`, and for the answers no operation has (a path the document does not
    have, a method its path does not answer: `x-promptops.order`), the document's response for
    them: `NoEndpoint` (404) or `MethodNotAllowed` (405), headers included."""
    name = {404: "NoEndpoint", 405: "MethodNotAllowed"}.get(response.status_code)
    try:
        check_response(request, response)
        return
    except (PathNotFound, ResponseNotFound):
        if name is None:
            raise
    spec = spec_document()
    documented = spec["components"]["responses"][name]
    for header, definition in documented["headers"].items():
        assert header in response.headers, f"{response.status_code} without {header}"
        schema = spec["components"]["headers"][definition["$ref"].rsplit("/", 1)[1]]["schema"]
        jsonschema.Draft202012Validator(schema).validate(response.headers[header])
    body = documented["content"]["application/json"]["schema"]["$ref"]
    jsonschema.Draft202012Validator({"$ref": body, **spec}).validate(response.json())


@cache
def spec_document() -> dict[str, Any]:
    """The OpenAPI document as data, read once (the mock's reader: libyaml's, if built). Do not
    change it: every test shares it."""
    return endpoints.contract()
