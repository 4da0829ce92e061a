"""`MockPromptOpsAPI`: one implementation of the PromptOps API contract.

Its core, `handle`, is a plain function from an `httpx.Request` to an
`httpx.Response` (or a raised transport error), so it mounts on respx for tests
and offline runs. It checks keys and signatures for real, renders templates,
and injects the faults the troubleshooting pages talk about.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

import httpx
import respx
from respx.models import AllMockedAssertionError

from snippets.client import BASE_URL_ENV, DEFAULT_BASE_URL, MAX_BATCH
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.client.errors import (
    ERRORS_BY_CODE,
    AuthenticationError,
    PromptNotFoundError,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from snippets.client.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TIMESTAMP_TOLERANCE,
    verify,
)
from snippets.mock_api.endpoints import Endpoint, route

# Distinctive on purpose: the test suite fails if this string shows up in any output or log.
MOCK_API_KEY: Final = "po_test_canary_7d1f3b9e5a2c"
API_VERSION: Final = "2026.11.0"
MAX_BODY_BYTES: Final = 2**20
"""The largest request body the API takes (1 MiB; a batch of 50 renders is a few KiB): a larger
one is answered 413, and the ASGI adapter stops reading it."""
MAX_JSON_DEPTH: Final = 32
"""How deep a request body may nest (`{"variables": {"name": ...}}` is 2 deep): deeper is 422."""

SEED_PROMPTS: Final[dict[str, dict[str, Any]]] = {
    "hello-world": {"name": "Hello world", "template": "Hello, {{name}}!", "version": 3},
    "welcome-message": {
        "name": "Welcome message",
        "template": "Welcome to {{company}}, {{name}}! We're glad you're here.",
        "version": 2,
    },
    "customer-service": {
        "name": "Customer service agent",
        "template": "You are a friendly support agent at {{company}}. Greet {{name}} and ask "
        "how you can help.",
        "version": 5,
    },
}

# A placeholder: `{{`, spaces, an ASCII identifier, spaces, `}}` (the contract's
# x-promptops.templates). Spaces only: a tab or a line break inside the braces is text.
_VARIABLE = re.compile(r"\{\{ *([A-Za-z_][A-Za-z0-9_]*) *\}\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and other scripts' digits.
_TIMESTAMP = re.compile(r"[0-9]+")
_Handler = TypeVar("_Handler", bound=Callable[..., Any])
OPERATIONS: Final[dict[str, Callable[..., Any]]] = {}
"""Each `operationId` of the OpenAPI document the mock answers, and the `MockPromptOpsAPI`
method that answers it (marked `@operation`): it takes the request and the path's parameters,
and returns the `data` of the success envelope, or raises `_Reject`."""


def operation(operation_id: str) -> Callable[[_Handler], _Handler]:
    """Mark a method as the one answering `operation_id` (an `operationId` of the document's
    `paths`, which `snippets.mock_api.endpoints.ENDPOINTS` lists)."""

    def register(handler: _Handler) -> _Handler:
        if operation_id in OPERATIONS:
            raise ValueError(f"{operation_id} has a method already: {OPERATIONS[operation_id]}")
        OPERATIONS[operation_id] = handler
        return handler

    return register


Responder = Callable[[httpx.Request], httpx.Response]


class _Trickle(httpx.AsyncByteStream):
    """A body sent one byte at a time, `interval` seconds (of the event loop) apart."""

    def __init__(self, content: bytes, interval: float) -> None:
        self._content, self._interval = content, interval

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for byte in self._content:
            await asyncio.sleep(self._interval)
            yield bytes([byte])


def _address(url: str) -> tuple[str, str, int]:
    """The scheme, host and port a connection to `url` goes to."""
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port or {"http": 80, "https": 443}[parsed.scheme]


def _where_clients_point() -> str:
    """`PROMPTOPS_BASE_URL`, else the real API's URL: where clients will send requests."""
    return os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def _seed_prompts() -> dict[str, dict[str, Any]]:
    """A fresh copy of `SEED_PROMPTS`, for one mock to change."""
    return {prompt_id: dict(prompt) for prompt_id, prompt in SEED_PROMPTS.items()}


class _Reject(Exception):
    """Internal: stop handling a request and answer with this error envelope."""

    def __init__(
        self,
        error: type[PromptOpsError],
        message: str,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        self.error, self.message = error, message
        self.status = status
        self.headers = headers
        self.extra = extra


@dataclass
class _Quota:
    """A plan's quota: `limit` requests a key may make in any `per` seconds."""

    limit: int
    per: float
    sent: dict[str, deque[float]] = field(default_factory=dict)

    def count(self, key: str, now: float) -> dict[str, str]:
        """Count one request of `key`: the RateLimit fields to answer with; `_Reject` (429)
        once the quota is spent."""
        sent = self.sent.setdefault(key, deque())
        while sent and sent[0] <= now - self.per:
            sent.popleft()
        if len(sent) >= self.limit:
            wait = max(1, math.ceil(sent[0] + self.per - now if sent else self.per))
            fields = self._fields(0, wait)
            raise _Reject(
                RateLimitError,
                "Rate limit exceeded",
                headers={"Retry-After": str(wait), **fields},
                retry_after=wait,
            )
        sent.append(now)
        return self._fields(self.limit - len(sent), math.ceil(sent[0] + self.per - now))

    def _fields(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
        }


Stage = Literal["transport", "edge", "app"]


@dataclass
class _Fault:
    """An injected fault, used for the next `times` requests whose path starts with `path`.

    `stage` is where it happens: "transport" (the request never arrives), "edge" (a load
    balancer or proxy answers, before authentication) or "app" (the API, after authentication).
    """

    times: int
    apply: Callable[[httpx.Request], httpx.Response]
    path: str = "/"
    stage: Stage = "app"


@dataclass(repr=False)
class MockPromptOpsAPI:
    """The PromptOps API in a box, offline: keys and signatures checked for real, templates
    rendered, and the faults these pages talk about switched on by its methods. In a `with`
    block it answers where clients point (`PROMPTOPS_BASE_URL`, else the API's address), to
    requests signed with its key:

        with MockPromptOpsAPI() as api:
            api.rate_limit(times=1, retry_after=2)  # the next request gets a 429
            client = PromptOpsClient(api.api_key)  # its calls meet the mock

    Attributes:
        api_key: The key the mock accepts (and puts in `PROMPTOPS_API_KEY` when run offline).
        extra_keys: More accepted keys, for key rotation: see `add_key` and `revoke_key`.
        base_url: Where it answers: `PROMPTOPS_BASE_URL` if set (where clients will send their
            requests), else `https://api.promptops.com`.
        requests: Every request that reached `handle`, in order (failed attempts included).
        exchanges: Every (request, response) `handle` answered (transport faults have none).
        history: How many of the latest requests and exchanges `requests` and `exchanges`
            keep: None (the default) keeps all, as a test wants; a server that runs for days
            keeps a few (the ASGI adapter's own mock keeps `SERVED_HISTORY`).
    """

    api_key: str = field(default=MOCK_API_KEY, repr=False)  # keys stay out of reprs
    extra_keys: set[str] = field(default_factory=set, repr=False)
    # Where clients send requests: the mock answers where they point (PROMPTOPS_BASE_URL).
    base_url: str = field(default_factory=_where_clients_point)
    clock: Clock = SYSTEM_CLOCK
    prompts: dict[str, dict[str, Any]] = field(default_factory=_seed_prompts)
    requests: list[httpx.Request] = field(default_factory=list)
    exchanges: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)
    history: int | None = None
    latency: float = 0.0
    skew: float = 0.0
    version: str = API_VERSION
    """What `GET /v1/client/health` says the API's version is."""
    _faults: list[_Fault] = field(default_factory=list, init=False)
    _answered: int = field(default=0, init=False)  # numbers the answers: X-Request-Id
    _router: respx.MockRouter | None = field(default=None, init=False)
    _quota: _Quota | None = field(default=None, init=False)
    # Addresses (scheme, host, port) where nothing listens: see `nothing_listens_at`.
    _closed: set[tuple[str, str, int]] = field(default_factory=set, init=False)

    def __repr__(self) -> str:
        return (
            f"MockPromptOpsAPI(base_url={self.base_url!r}, prompts={list(self.prompts)!r}, "
            f"requests={len(self.requests)}, api_key='***')"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Pretty-printers (IPython, Hypothesis) walk dataclass fields; show `repr` instead."""
        printer.text(repr(self))

    # -- scenarios ---------------------------------------------------------------------

    def rate_limit(
        self, times: int = 1, *, retry_after: int | None = 2, header: bool = True, path: str = "/"
    ) -> None:
        """Answer 429 `RATE_LIMIT_ERROR` `times` times (with `retry_after` in the body and,
        if `header`, a `Retry-After` header)."""

        def respond(request: httpx.Request) -> httpx.Response:
            extra = {} if retry_after is None else {"retry_after": retry_after}
            headers = (
                {"Retry-After": str(retry_after)} if header and retry_after is not None else {}
            )
            return self._error(RateLimitError, "Rate limit exceeded", headers=headers, **extra)

        self._faults.append(_Fault(times, respond, path))

    def server_error(
        self,
        times: int = 1,
        *,
        status: int = 503,
        retry_after: int | None = None,
        path: str = "/",
    ) -> None:
        """Answer `status` (5xx) `SERVER_ERROR` `times` times; with `retry_after`, a
        `Retry-After` header too (a 503 during maintenance)."""

        def respond(request: httpx.Request) -> httpx.Response:
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return self._error(
                ServerError, "The server is temporarily unavailable", status=status, headers=headers
            )

        self._faults.append(_Fault(times, respond, path, "edge"))

    def gateway_timeout(self, times: int = 1, *, path: str = "/") -> None:
        """Answer 504 `TIMEOUT_ERROR`: the API's gateway gave up waiting `times` times."""

        def respond(request: httpx.Request) -> httpx.Response:
            return self._error(RequestTimeoutError, "Request timeout after 30 seconds")

        self._faults.append(_Fault(times, respond, path, "edge"))

    def timeout(self, times: int = 1, *, path: str = "/") -> None:
        """Never answer: the client's read timeout fires (the clock moves by that timeout)."""
        self._stall("read", httpx.ReadTimeout, times, path)

    def connect_timeout(self, times: int = 1, *, path: str = "/") -> None:
        """The connection never opens: a firewall dropping packets (the clock moves by the
        client's connect timeout)."""
        self._stall("connect", httpx.ConnectTimeout, times, path)

    def _stall(
        self, phase: str, error: type[httpx.TimeoutException], times: int, path: str
    ) -> None:
        def respond(request: httpx.Request) -> httpx.Response:
            timeouts = request.extensions.get("timeout", {})
            self.clock.block(timeouts.get(phase) or 5.0)
            raise error("timed out", request=request)

        self._faults.append(_Fault(times, respond, path, "transport"))

    def connection_refused(self, times: int = 1, *, path: str = "/") -> None:
        """Refuse the connection `times` times, as a down server or a firewall does."""

        def respond(request: httpx.Request) -> httpx.Response:
            # The client's words for a real refusal (httpx on asyncio says "All connection
            # attempts failed"; the client reports the OSError underneath, which says this).
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

        self._faults.append(_Fault(times, respond, path, "transport"))

    def malformed_body(
        self,
        times: int = 1,
        *,
        status: int = 200,
        body: bytes = b'{"success": true, "data": {"id": "hello-wor',
        content_type: str = "application/json",
        path: str = "/",
    ) -> None:
        """Answer with a body that is not a PromptOps envelope (truncated JSON by default;
        pass an HTML page and status 502 for a misbehaving proxy)."""

        def respond(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, content=body, headers={"Content-Type": content_type})

        self._faults.append(_Fault(times, respond, path, "edge"))

    def trickle(self, times: int = 1, *, interval: float = 1.0, path: str = "/") -> None:
        """Answer as the API would, but send the body one byte every `interval` seconds, as a
        struggling server or proxy does: every read gets a byte in time, so only an overall
        deadline ends the call. The waits are the event loop's (`asyncio.sleep`): on
        `FakeClock.event_loop()` they take no real time. (On the respx mount: the ASGI adapter
        sends whole bodies.)"""

        def respond(request: httpx.Request) -> httpx.Response:
            answer = self._answer_past_the_edge(request)
            return httpx.Response(
                answer.status_code,
                headers=answer.headers,
                stream=_Trickle(answer.content, interval),
            )

        self._faults.append(_Fault(times, respond, path, "edge"))

    def quota(self, limit: int, *, per: float = 60.0) -> None:
        """Allow each key `limit` requests in any `per` seconds (on the mock's clock), as a
        plan's quota does: past it, 429 with `Retry-After` (when the oldest request leaves the
        window); every answer to a key carries `RateLimit-Limit`, `-Remaining` and `-Reset`."""
        self._quota = _Quota(limit, per)

    def nothing_listens_at(self, url: str) -> None:
        """Refuse every connection to `url`'s scheme, host and port, another address than the
        API's, as a port where no server listens does: `[Errno 111] Connection refused`. For a
        client pointed at the wrong place (`localhost` inside a container is the container)."""
        address = _address(url)
        if address == _address(self.base_url):
            raise ValueError(f"{url} is where the mock answers: use connection_refused()")
        self._closed.add(address)
        if self._router is not None:
            self._route_closed(address)

    def _route_closed(self, address: tuple[str, str, int]) -> None:
        assert self._router is not None
        scheme, host, port = address

        def refuse(request: httpx.Request) -> httpx.Response:
            if _address(str(request.url)) not in self._closed:  # reset since: unmocked again
                raise AllMockedAssertionError(f"RESPX: {request!r} not mocked!")
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

        self._router.route(scheme=scheme, host=host, port=port).mock(side_effect=refuse)

    def clock_skew(self, seconds: float) -> None:
        """Run the server's clock `seconds` ahead of the client's (negative: behind)."""
        self.skew = seconds

    def simulate_latency(self, seconds: float) -> None:
        """Spend `seconds` (on the mock's clock) before answering each request."""
        self.latency = seconds

    def add_key(self, key: str) -> None:
        """Accept another key (a new key during a rotation)."""
        self.extra_keys.add(key)

    def revoke_key(self, key: str) -> None:
        """Stop accepting a key."""
        self.extra_keys.discard(key)
        if key == self.api_key:
            self.api_key = ""

    def reset(self) -> None:
        """Drop all scenarios and the request log; prompts stay."""
        self._clear_scenarios()
        self.requests.clear()
        self.exchanges.clear()
        self._answered = 0

    def _clear_scenarios(self) -> None:
        self._faults.clear()
        self._closed.clear()
        self._quota = None
        self.latency = self.skew = 0.0

    # -- mounting on respx -------------------------------------------------------------

    def __enter__(self) -> Self:
        """Route every request to `base_url` (scheme, host and port) through this mock; any
        other request fails loudly."""
        url = httpx.URL(self.base_url)
        port = url.port or {"http": 80, "https": 443}[url.scheme]
        self._router = respx.mock(assert_all_called=False, assert_all_mocked=True)
        self._router.route(scheme=url.scheme, host=url.host, port=port).mock(
            side_effect=self.handle
        )
        for address in self._closed:
            self._route_closed(address)
        self._router.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._router is not None
        self._router.__exit__(exc_type, exc, tb)
        self._router = None

    @contextmanager
    def scenario(self) -> Iterator[Self]:
        """Scope scenarios to a block: whatever is switched on inside is reset after it."""
        try:
            yield self
        finally:
            self._clear_scenarios()

    # -- the API ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the PromptOps API would."""
        self._answered += 1
        self._keep(self.requests, request)
        response = self._answer(request)
        self._keep(self.exchanges, (request, response))
        return response

    def _keep(self, log: list[Any], entry: Any) -> None:
        """Append `entry` to `log`, then drop the oldest entries beyond `history`."""
        log.append(entry)
        if self.history is not None and len(log) > self.history:
            del log[: len(log) - self.history]

    # What the HTTP layer refuses before it has a request for `handle` (the ASGI adapter).

    def answer_too_large(self) -> httpx.Response:
        """`handle`'s answer to a body over `MAX_BODY_BYTES`, for an HTTP layer that stops
        reading such a body (so it has no request to pass on; none is kept in `requests`)."""
        self._answered += 1
        return self._refusal(_too_large())

    def answer_no_path(self, target: str) -> httpx.Response:
        """`handle`'s answer to a path the API does not have, for a request-target that is no
        path at all (`OPTIONS *`, `CONNECT host:443`): an HTTP layer cannot make an
        `httpx.Request` of it (none is kept in `requests`)."""
        self._answered += 1
        return self._refusal(_no_endpoint(target))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.latency:
            self.clock.block(self.latency)
        path = request.url.path
        for stage in ("transport", "edge"):  # a transport fault raises instead of answering
            fault = self._next_fault(path, stage)
            if fault is not None:
                return fault.apply(request)
        return self._answer_past_the_edge(request)

    def _answer_past_the_edge(self, request: httpx.Request) -> httpx.Response:
        """The API's own answer, its checks in the contract's order (x-promptops.order): size,
        route, method, authentication, rate limit, then any fault of the app stage, then the
        body, the prompt and its variables."""
        path = request.url.path
        try:
            if len(request.read()) > MAX_BODY_BYTES:  # the edge refuses it before routing
                raise _too_large()
            endpoint, parameters = self._check_method(request)  # first, signed or not
            counted: dict[str, str] = {}
            if endpoint.authenticated:
                self._authenticate(request)
                if self._quota is not None:
                    key = request.headers["Authorization"].partition(" ")[2]
                    counted = self._quota.count(key, self.clock.monotonic())
            fault = self._next_fault(path, "app")
            if fault is not None:
                return fault.apply(request)
            response = self._ok(self._operate(request, endpoint, parameters))
            response.headers.update(counted)
            return response
        except _Reject as rejection:
            return self._refusal(rejection)

    @staticmethod
    def _check_method(request: httpx.Request) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint and the path's parameters; 404 for a path the API does not have; 405
        with `Allow` for a method it does not answer there."""
        found = route(request.url.raw_path.partition(b"?")[0])
        if found is None:
            raise _no_endpoint(request.url.path)
        endpoint = found.endpoint(request.method)
        if endpoint is None:
            raise _Reject(
                ValidationError,
                f"Method {request.method} not allowed for {request.url.path}; use {found.allowed}",
                status=405,
                headers={"Allow": found.allowed},
            )
        return endpoint, found.parameters

    def _next_fault(self, path: str, stage: Stage) -> _Fault | None:
        for fault in self._faults:
            if fault.stage == stage and fault.times > 0 and path.startswith(fault.path):
                fault.times -= 1
                return fault
        return None

    def _authenticate(self, request: httpx.Request) -> None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not key or key not in {self.api_key, *self.extra_keys}:
            raise _Reject(AuthenticationError, "Invalid API key or signature")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not _TIMESTAMP.fullmatch(timestamp) or not signature:
            raise _Reject(
                AuthenticationError,
                f"Missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header",
            )
        # Compared as text first: the digits of a year-9999 time are 12 at most, and int() of
        # thousands of digits is slow (or refused) while float() of hundreds overflows.
        digits = timestamp.lstrip("0") or "0"
        if len(digits) > 12 or abs(self._server_time() - int(digits)) > TIMESTAMP_TOLERANCE:
            raise _Reject(
                AuthenticationError,
                f"Request timestamp is more than {TIMESTAMP_TOLERANCE} s from server time; "
                "check the client's clock",
            )
        body = request.read()
        # hmac.compare_digest refuses text that is not ASCII (a header of latin-1 bytes).
        if not signature.isascii() or not any(
            verify(key, signature, int(digits), request.method, path, body)
            for path in _signed_paths(request.url.raw_path.decode("ascii"))
        ):
            raise _Reject(AuthenticationError, "Invalid API key or signature")

    def _operate(
        self, request: httpx.Request, endpoint: Endpoint, parameters: dict[str, str]
    ) -> Any:
        """The `data` of the answer: the work of the method marked with the endpoint's
        `operationId` (`OPERATIONS`)."""
        handler = OPERATIONS.get(endpoint.operation_id)
        if handler is None:
            raise NotImplementedError(
                f"{endpoint.operation_id} ({endpoint.method} {endpoint.path}, in the OpenAPI "
                f"document) has no method in MockPromptOpsAPI marked "
                f'@operation("{endpoint.operation_id}")'
            )
        return handler(self, request, **parameters)

    # -- the operations: one method for each operationId of the OpenAPI document ------------

    @operation("getPublicHealth")
    def _public_health(self, request: httpx.Request) -> Any:
        return {"status": "healthy"}

    @operation("getClientHealth")
    def _client_health(self, request: httpx.Request) -> Any:
        return {"status": "healthy", "version": self.version}

    @operation("listPrompts")
    def _list_prompts(self, request: httpx.Request) -> Any:
        return {"prompts": [{"id": pid, **self._summary(pid)} for pid in self.prompts]}

    @operation("getPrompt")
    def _get_prompt(self, request: httpx.Request, prompt_id: str) -> Any:
        prompt = self._prompt(prompt_id)
        return {"id": prompt_id, **prompt, "variables": template_variables(prompt["template"])}

    @operation("renderPrompt")
    def _render_prompt(self, request: httpx.Request, prompt_id: str) -> Any:
        body = self._json_body(request)
        if "variables" not in body:
            raise _Reject(ValidationError, "'variables' is required")
        return self._render(prompt_id, body["variables"])

    @operation("batchRender")
    def _batch(self, request: httpx.Request) -> Any:
        return self._batch_render(self._json_body(request))

    def _prompt(self, prompt_id: str) -> dict[str, Any]:
        try:
            return self.prompts[prompt_id]
        except KeyError:
            raise _Reject(PromptNotFoundError, f"Prompt '{prompt_id}' not found") from None

    def _summary(self, prompt_id: str) -> dict[str, Any]:
        prompt = self.prompts[prompt_id]
        return {"name": prompt["name"], "version": prompt["version"]}

    def _render(self, prompt_id: str, variables: Any) -> dict[str, str]:
        self._check_variables(variables, "variables")
        template = self._prompt(prompt_id)["template"]
        missing = sorted({name for name in _VARIABLE.findall(template) if name not in variables})
        if missing:
            raise _Reject(
                ValidationError,
                f"Missing variable(s) for prompt '{prompt_id}': {', '.join(missing)}",
            )

        return {"prompt_id": prompt_id, "content": render_template(template, variables)}

    def _batch_render(self, body: dict[str, Any]) -> dict[str, Any]:
        """A request that breaks the schema is refused whole (422); an unknown prompt or a
        missing template variable fails its own item only."""
        items = body.get("requests")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise _Reject(ValidationError, f"'requests' must be a list of 1 to {MAX_BATCH} items")
        for number, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("prompt_id"), str):
                raise _Reject(ValidationError, f"requests[{number}] needs a string 'prompt_id'")
            self._check_variables(item.get("variables", {}), f"requests[{number}].variables")
        results: list[dict[str, Any]] = []
        for item in items:
            try:
                results.append(self._render(item["prompt_id"], item.get("variables", {})))
            except _Reject as rejection:
                error = {"code": rejection.error.code, "message": rejection.message}
                results.append({"prompt_id": item["prompt_id"], "error": error})
        return {"results": results}

    @staticmethod
    def _check_variables(variables: Any, where: str) -> None:
        if not isinstance(variables, dict):
            raise _Reject(ValidationError, f"'{where}' must be a JSON object")
        bad = sorted(name for name in variables if not _NAME.fullmatch(name))
        if bad:
            raise _Reject(ValidationError, f"Invalid variable name(s): {', '.join(bad)}")

    @staticmethod
    def _json_body(request: httpx.Request) -> dict[str, Any]:
        try:
            body = json.loads(request.read() or b"{}")
        except RecursionError:  # nested deeper than the interpreter's recursion limit
            raise _Reject(ValidationError, _TOO_DEEP) from None
        except ValueError:
            raise _Reject(ValidationError, "Request body is not valid JSON") from None
        _check_json(body)
        if not isinstance(body, dict):
            raise _Reject(ValidationError, "Request body must be a JSON object")
        return body

    # -- responses -------------------------------------------------------------------

    def _server_time(self) -> float:
        return self.clock.time() + self.skew

    def _headers(self) -> dict[str, str]:
        return {
            "Date": email.utils.formatdate(self._server_time(), usegmt=True),
            "X-Request-Id": f"req_{self._answered:06d}",
        }

    def _ok(self, data: Any) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "data": data}, headers=self._headers())

    def _error(
        self,
        error: type[PromptOpsError],
        message: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """The error envelope for `error`, with the HTTP status the error catalog gives it."""
        status = status or ERRORS_BY_CODE[error.code].status
        assert status is not None, f"{error.code} is the client's own: the API never sends it"
        body = {"success": False, "error": {"code": error.code, "message": message, **extra}}
        return httpx.Response(status, json=body, headers={**self._headers(), **(headers or {})})

    def _refusal(self, rejection: _Reject) -> httpx.Response:
        return self._error(
            rejection.error,
            rejection.message,
            status=rejection.status,
            headers=rejection.headers,
            **rejection.extra,
        )


_TOO_DEEP: Final = f"Request body is nested more than {MAX_JSON_DEPTH} levels deep"
_LONE_SURROGATE: Final = "Request body has a lone surrogate (\\ud800 to \\udfff): not Unicode text"


def template_variables(template: str) -> list[str]:
    """The names a template's placeholders use, sorted, each once (`getPrompt`'s
    `variables`)."""
    return sorted(set(_VARIABLE.findall(template)))


def render_template(template: str, variables: Mapping[str, Any]) -> str:
    """`template` with each placeholder replaced by its variable's value, as the contract's
    x-promptops.templates says: a string as is, any other JSON value as its JSON text (keys in
    the order sent, non-ASCII characters as themselves). Every name must be in `variables`."""

    def value(match: re.Match[str]) -> str:
        item = variables[match[1]]
        return item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)

    return _VARIABLE.sub(value, template)


def _signed_paths(target: str) -> tuple[str, ...]:
    """The paths a signature may cover: the target as sent; for an empty query, with and
    without its `?` (x-promptops.signing: HTTP stacks differ in whether they keep it)."""
    path, _, query = target.partition("?")
    return (target,) if query else (path, f"{path}?")


def _too_large() -> _Reject:
    return _Reject(
        ValidationError, f"Request body is larger than {MAX_BODY_BYTES} bytes", status=413
    )


def _no_endpoint(path: str) -> _Reject:
    return _Reject(PromptNotFoundError, f"No endpoint {path}")


def _check_json(body: Any) -> None:
    """Refuse a parsed body the API could not answer: one nested deeper than `MAX_JSON_DEPTH`,
    or one with a lone surrogate (`"\\ud800"`), which JSON's escapes allow but no UTF-8 answer
    can echo. Iterative, so depth costs no stack; linear in the body's size."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode()
                except UnicodeEncodeError:
                    raise _Reject(ValidationError, _LONE_SURROGATE) from None
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _Reject(ValidationError, _TOO_DEEP)
            items = [*value, *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
