"""The API's endpoints, read from its OpenAPI document: the one table the mock routes by.

Each operation under the document's `paths` is an `Endpoint`: its method, its path template,
its `operationId`, whether it needs the key (an operation with `security: []` does not) and
whether it changes anything on the server.
`MockPromptOpsAPI` answers each with its method marked `@operation("<operationId>")`; the
tests iterate `ENDPOINTS` (the contract test, the fault matrix), so a path added to the
document is routed, and a test names the `operationId` still to implement.

The wheel carries the document beside this module; a checkout reads it where it lives,
docs/reference/openapi.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

import yaml

_PACKAGED: Final = Path(__file__).with_name("openapi.yaml")  # the wheel's (pyproject.toml)
_CHECKOUT: Final = Path(__file__).resolve().parents[2] / "docs" / "reference" / "openapi.yaml"
_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Endpoint:
    """One operation of the document: `GET /v1/client/prompts/{prompt_id}` is `getPrompt`."""

    method: str
    path: str
    """The path template, as the document spells it: `/v1/client/prompts/{prompt_id}`."""
    operation_id: str
    authenticated: bool
    """False for an operation whose `security` is empty: no key, no signature, no quota."""
    read_only: bool
    """True if it changes nothing on the server: a GET (HEAD, OPTIONS), or an operation the
    document marks `x-read-only: true` (`nox -s live` calls only these)."""

    def target(self, **parameters: str) -> str:
        """The path with each `{name}` filled in, percent-encoded: `target(prompt_id="a b")`."""
        return _PARAMETER.sub(lambda m: quote(parameters[m[1]], safe=""), self.path)


def contract() -> dict[str, Any]:
    """The OpenAPI document, as data."""
    text = (_PACKAGED if _PACKAGED.is_file() else _CHECKOUT).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, if built: 10x faster
    document: dict[str, Any] = yaml.load(text, Loader=loader)
    return document


def endpoints_of(document: dict[str, Any]) -> tuple[Endpoint, ...]:
    """Every operation under the document's `paths`, in the document's order."""
    default_security = document.get("security", [])
    return tuple(
        Endpoint(
            method=method.upper(),
            path=path,
            operation_id=operation["operationId"],
            authenticated=operation.get("security", default_security) != [],
            read_only=method.upper() in _SAFE_METHODS or operation.get("x-read-only") is True,
        )
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    )


ENDPOINTS: Final = endpoints_of(contract())


@dataclass(frozen=True)
class Route:
    """What a request's path names: the endpoints at that path (one per method it answers)
    and the path's parameters, percent-decoded."""

    endpoints: tuple[Endpoint, ...]
    parameters: dict[str, str]

    @property
    def allowed(self) -> str:
        """The methods the path answers, for an `Allow` header: `GET`, or `GET, POST`."""
        return ", ".join(endpoint.method for endpoint in self.endpoints)

    def endpoint(self, method: str) -> Endpoint | None:
        """The endpoint that answers `method` here; None if the path answers other methods."""
        return next((e for e in self.endpoints if e.method == method), None)


_Pattern = tuple[tuple[str, bool], ...]
"""A path template's segments, each as (its text, or its parameter's name; is a parameter)."""


def _pattern(template: str) -> _Pattern:
    pattern = []
    for segment in template.split("/"):
        parameter = _PARAMETER.fullmatch(segment)
        pattern.append((parameter[1], True) if parameter else (segment, False))
    return tuple(pattern)


def _by_path(endpoints: tuple[Endpoint, ...]) -> list[tuple[_Pattern, tuple[Endpoint, ...]]]:
    """Each path template's pattern and endpoints, a concrete segment before a parameter in the
    same place, as OpenAPI matches them (`/prompts/batch-render` before `/prompts/{id}`)."""
    paths: dict[str, tuple[Endpoint, ...]] = {}
    for endpoint in endpoints:
        paths[endpoint.path] = (*paths.get(endpoint.path, ()), endpoint)
    patterns = [(_pattern(path), endpoints) for path, endpoints in paths.items()]
    return sorted(patterns, key=lambda item: [is_parameter for _, is_parameter in item[0]])


_PATHS: Final = _by_path(ENDPOINTS)


def route(raw_path: bytes) -> Route | None:
    """What a path (as sent, without its query) names; None for a path the API does not have.

    Segments are compared percent-decoded (RFC 3986: `hello%2Dworld` is `hello-world`); an
    encoded `/` stays inside its segment, and a parameter is never empty.
    """
    sent = [unquote(s) for s in raw_path.decode("ascii", "replace").split("/")]
    for pattern, endpoints in _PATHS:
        if len(pattern) == len(sent) and all(
            bool(segment) if is_parameter else segment == text
            for (text, is_parameter), segment in zip(pattern, sent, strict=True)
        ):
            parameters = {name: s for (name, is_p), s in zip(pattern, sent, strict=True) if is_p}
            return Route(endpoints, parameters)
    return None
