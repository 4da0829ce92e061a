"""The OpenAPI contract (docs/reference/openapi.yaml), and httpx adapters for openapi-core."""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .docs_blocks import ROOT

SPEC_PATH = ROOT / "docs/reference/openapi.yaml"


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
