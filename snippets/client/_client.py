"""`PromptOpsClient`: a small async client for the PromptOps API, built on httpx."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import math
import os
import random
import socket
import ssl
from collections.abc import Callable, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self

import httpx

from .clock import Clock, default_clock
from .errors import (
    ERRORS_BY_CODE,
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    PromptNotFoundError,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from .models import (
    HealthStatus,
    Prompt,
    PromptVariables,
    RenderedPrompt,
    check_prompt_id,
)
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger("promptops")

DEFAULT_BASE_URL: Final = "https://api.promptops.com"
API_KEY_ENV: Final = "PROMPTOPS_API_KEY"
BASE_URL_ENV: Final = "PROMPTOPS_BASE_URL"

# Backoff between retries: 0.5 s, 1 s, 2 s, ... capped at 8 s, each shortened by up to 25 %
# at random so that many clients failing together do not retry together.
INITIAL_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 8.0
JITTER: Final = 0.25
# A `retry_after` longer than this is not waited for: the error is raised at once.
MAX_RETRY_AFTER: Final = 60.0
# The batch-render endpoint takes at most this many items per call.
MAX_BATCH: Final = 50


class PromptOpsAuth(httpx.Auth):
    """Adds the bearer key and a fresh signature to every request, retries included."""

    requires_request_body = True

    def __init__(self, api_key: str, clock: Clock) -> None:
        self._api_key = api_key
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = int(self._clock.time())
        path = request.url.raw_path.decode("ascii")
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        request.headers[TIMESTAMP_HEADER] = str(timestamp)
        request.headers[SIGNATURE_HEADER] = sign(
            self._api_key, timestamp, request.method, path, request.content
        )
        yield request

    def __repr__(self) -> str:
        return "PromptOpsAuth(api_key='***')"


class PromptOpsClient:
    """Async client for the PromptOps API.

    Use one client per process and close it (`async with`, or `await client.aclose()`):
    it holds a connection pool and the prompt cache.

    Args:
        api_key: Your API key; defaults to the `PROMPTOPS_API_KEY` environment variable.
        base_url: API root; defaults to `PROMPTOPS_BASE_URL`, else `https://api.promptops.com`.
        timeout: Overall deadline in seconds for one call, retries and waits included.
        max_retries: Retries after the first attempt, for connect errors, timeouts, 408, 429, 5xx.
        cache_ttl: Seconds `get_prompt` results are cached; 0 turns the cache off.
        max_retry_after: Longest `retry_after` the client will wait; longer ones raise at once.
        limits: Connection pool limits (`httpx.Limits`); httpx's defaults otherwise.
        event_hooks: httpx event hooks (`{"request": [...], "response": [...]}`), for logging.
        transport: An httpx transport (tests, proxies); default is httpx's.
        clock: Where time comes from; tests pass a `FakeClock`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        cache_ttl: float = 300.0,
        max_retry_after: float = MAX_RETRY_AFTER,
        limits: httpx.Limits | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not isinstance(api_key, str) or not api_key.strip():
            raise ConfigurationError(
                f"No API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
            )
        self._api_key = api_key.strip()
        self.base_url = _check_base_url(
            base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        )
        self.timeout = _check_seconds("timeout", timeout, allow_zero=False)
        self.cache_ttl = _check_seconds("cache_ttl", cache_ttl, allow_zero=True)
        self.max_retry_after = _check_seconds("max_retry_after", max_retry_after, allow_zero=True)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an int >= 0, got {max_retries!r}")
        self.max_retries = max_retries
        self._limits = limits or httpx.Limits()
        self._event_hooks = {name: list(hooks) for name, hooks in (event_hooks or {}).items()}
        self._transport = transport
        self._clock = clock or default_clock()
        self._http: httpx.AsyncClient | None = None
        self._cache: dict[str, tuple[float, Prompt]] = {}
        self._in_flight: dict[str, asyncio.Task[Prompt]] = {}
        self._hits = 0
        self._misses = 0

    def __repr__(self) -> str:
        return f"PromptOpsClient(base_url={self.base_url!r}, api_key='***')"

    # -- lifecycle ---------------------------------------------------------------------

    async def initialize(self) -> None:
        """Open the connection pool. Called for you by `async with` and the first request."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                verify=_tls_context(
                    os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
                ),
                auth=PromptOpsAuth(self._api_key, self._clock),
                headers={"User-Agent": "promptops-docs-client/0.1"},
                limits=self._limits,
                event_hooks=self._event_hooks,
                transport=self._transport,
            )

    async def aclose(self) -> None:
        """Close the connection pool. Safe to call twice."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- API -------------------------------------------------------------------------

    async def health_check(self) -> HealthStatus:
        """Check the API is up and accepts this client's key and signatures."""
        data = await self._request("GET", "/v1/client/health")
        return HealthStatus(status=data["status"], version=data["version"])

    async def list_prompts(self) -> list[str]:
        """The ids of the prompts this API key can use."""
        data = await self._request("GET", "/v1/client/prompts")
        return [item["id"] for item in data["prompts"]]

    async def get_prompt(self, prompt_id: str) -> Prompt:
        """Fetch a prompt; served from the cache for `cache_ttl` seconds after a fetch.

        Concurrent calls for the same id share one request: the first fetches, the others
        wait for its result (and count as cache hits).
        """
        cached = self._cache.get(prompt_id) if isinstance(prompt_id, str) else None
        if cached is not None and cached[0] > self._clock.monotonic():
            self._hits += 1  # only valid ids are ever cached: no need to check it again
            return cached[1]
        check_prompt_id(prompt_id)
        fetch = self._in_flight.get(prompt_id)
        if fetch is not None:
            self._hits += 1
            return await asyncio.shield(fetch)  # a waiter's cancellation must not cancel it
        self._misses += 1
        fetch = asyncio.ensure_future(self._fetch_prompt(prompt_id))
        self._in_flight[prompt_id] = fetch
        try:
            return await asyncio.shield(fetch)
        finally:
            if self._in_flight.get(prompt_id) is fetch:
                del self._in_flight[prompt_id]

    async def _fetch_prompt(self, prompt_id: str) -> Prompt:
        data = await self._request("GET", f"/v1/client/prompts/{prompt_id}")
        prompt = Prompt(
            id=data["id"],
            name=data["name"],
            template=data["template"],
            variables=tuple(data["variables"]),
            version=data["version"],
        )
        if self.cache_ttl > 0:
            self._cache[prompt_id] = (self._clock.monotonic() + self.cache_ttl, prompt)
        return prompt

    async def render_prompt(
        self, prompt_id: str, variables: Mapping[str, Any] | None = None
    ) -> RenderedPrompt:
        """Render a prompt's template with `variables` on the server.

        Pass a `PromptVariables`, or a plain dict, which is checked the same way.
        """
        check_prompt_id(prompt_id)
        if variables is None:
            variables = PromptVariables()
        elif not isinstance(variables, PromptVariables):
            variables = PromptVariables(variables)  # checks names and values
        data = await self._request(
            "POST", f"/v1/client/prompts/{prompt_id}/render", json={"variables": dict(variables)}
        )
        return RenderedPrompt(prompt_id=data["prompt_id"], content=data["content"])

    async def batch_render(
        self, requests: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[RenderedPrompt | PromptOpsError]:
        """Render many prompts in as few calls as possible (up to 50 per call).

        Returns one result per request, in order: a `RenderedPrompt`, or the error for that
        item (an unknown id fails its item, not the batch). Every id and variable set is checked
        before anything is sent.
        """
        items = [
            {"prompt_id": check_prompt_id(prompt_id), "variables": dict(PromptVariables(variables))}
            for prompt_id, variables in requests
        ]
        results: list[RenderedPrompt | PromptOpsError] = []
        for start in range(0, len(items), MAX_BATCH):
            data = await self._request(
                "POST",
                "/v1/client/prompts/batch-render",
                json={"requests": items[start : start + MAX_BATCH]},
            )
            for result in data["results"]:
                error = result.get("error")
                if error is None:
                    results.append(RenderedPrompt(result["prompt_id"], result["content"]))
                else:
                    spec = ERRORS_BY_CODE.get(error["code"])
                    cls = spec.exception if spec else PromptOpsError
                    results.append(cls(error["message"]))
        return results

    def get_cache_stats(self) -> dict[str, Any]:
        """Cache counters: `hits`, `misses`, `hit_rate` (0.0-1.0) and `size` (live entries)."""
        now = self._clock.monotonic()
        lookups = self._hits + self._misses
        return {
            "hits": self._hits,
            "misses": self._misses,
            "hit_rate": self._hits / lookups if lookups else 0.0,
            "size": sum(1 for expires, _ in self._cache.values() if expires > now),
        }

    def clear_cache(self) -> None:
        """Forget cached prompts (the counters are kept)."""
        self._cache.clear()

    # -- transport, retries ---------------------------------------------------------------

    async def _request(self, method: str, path: str, json: Any = None) -> Any:
        """Send one API call: retry what is worth retrying, within one overall deadline."""
        await self.initialize()
        assert self._http is not None
        deadline = self._clock.monotonic() + self.timeout
        attempt = 0
        while True:
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                raise RequestTimeoutError(f"No answer within the {self.timeout:g} s deadline")
            error: PromptOpsError
            try:
                response = await self._http.request(
                    method, path, json=json, timeout=httpx.Timeout(remaining)
                )
            except httpx.TimeoutException:
                error = RequestTimeoutError(f"{method} {path} timed out")
            except httpx.TransportError as exc:
                error = NetworkError(f"Could not reach {self.base_url}: {_transport_cause(exc)}")
            else:
                body = _json_or_none(response)
                if response.is_success and isinstance(body, dict) and body.get("success") is True:
                    return body.get("data")
                error = self._error_from(response, body)

            delay = self._retry_delay(error, attempt)
            if delay is None or self._clock.monotonic() + delay >= deadline:
                raise error
            logger.info(
                "%s %s failed with %s; retry %d of %d in %.1f s",
                method,
                path,
                error.code,
                attempt + 1,
                self.max_retries,
                delay,
            )
            await self._clock.sleep(delay)
            attempt += 1

    def _retry_delay(self, error: PromptOpsError, attempt: int) -> float | None:
        """Seconds to wait before retrying `error`, or None if it must not be retried."""
        if attempt >= self.max_retries or not _is_retryable(error):
            return None
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        backoff = min(MAX_BACKOFF, INITIAL_BACKOFF * 2.0**attempt)
        return backoff * (1 - JITTER * random.random())

    def _error_from(self, response: httpx.Response, body: Any) -> PromptOpsError:
        """Turn a failed response into the exception for its error code."""
        status = response.status_code
        envelope = body.get("error") if isinstance(body, dict) else None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), str):
            content_type = response.headers.get("content-type", "no content type")
            return ServerError(
                f"HTTP {status} with a body that is not a PromptOps JSON envelope "
                f"({content_type}, {len(response.content)} bytes)",
                status_code=status,
            )
        message = str(envelope.get("message", ""))
        spec = ERRORS_BY_CODE.get(envelope["code"])
        if spec is None:
            return _error_for_status(status, f"{envelope['code']}: {message}")
        if spec.exception is RateLimitError:
            retry_after = _retry_after(envelope.get("retry_after"), response, self._clock)
            return RateLimitError(message, status_code=status, retry_after=retry_after)
        return spec.exception(message, status_code=status)


@functools.cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """One verifying TLS context per CA setting, shared by every client in the process.

    Building one loads the whole CA bundle (tens of milliseconds); httpx would build a new one
    for each client. The arguments are the environment variables httpx reads, so a changed
    `SSL_CERT_FILE` still takes effect.
    """
    return httpx.create_ssl_context()


def _is_retryable(error: PromptOpsError) -> bool:
    if isinstance(error, NetworkError | RequestTimeoutError | RateLimitError):
        return True
    return isinstance(error, ServerError) and (error.status_code or 0) >= 500


def _transport_cause(exc: BaseException) -> str:
    """What went wrong under a transport error, as specifically as the exceptions say.

    On asyncio, httpx reports a refused connection as "All connection attempts failed"; the
    OSError it wraps says "[Errno 111] Connection refused". DNS and TLS errors say enough.
    """
    cause: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; never loop on a cycle
        if cause is None:
            break
        if isinstance(cause, socket.gaierror | ssl.SSLError):
            return str(cause)
        if isinstance(cause, ConnectionError) and cause.errno:
            return f"[Errno {cause.errno}] {os.strerror(cause.errno)}"
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


def _error_for_status(status: int, message: str) -> PromptOpsError:
    """For an error code this client does not know: pick the class by HTTP status."""
    by_status: dict[int, type[PromptOpsError]] = {
        401: AuthenticationError,
        403: AuthenticationError,
        404: PromptNotFoundError,
        408: RequestTimeoutError,
        422: ValidationError,
        429: RateLimitError,
        504: RequestTimeoutError,
    }
    cls = by_status.get(status, ServerError if status >= 500 else PromptOpsError)
    return cls(message, status_code=status)


def _retry_after(value: Any, response: httpx.Response, clock: Clock) -> float | None:
    """`retry_after` from the body, else the `Retry-After` header (seconds or HTTP date)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.time())


def _json_or_none(response: httpx.Response) -> Any:
    """The parsed body, or None if it is not JSON (a proxy's page, cut off, mislabelled)."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return None
    try:
        return response.json()
    except ValueError:  # not JSON, truncated JSON, or not UTF-8
        return None


def _check_base_url(base_url: str) -> str:
    try:
        url = httpx.URL(base_url) if isinstance(base_url, str) else None
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    return str(url).rstrip("/")


def _check_seconds(name: str, value: float, *, allow_zero: bool) -> float:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 or (allow_zero and value == 0))
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigurationError(
            f"{name} must be a finite number of seconds {bound}, got {value!r}"
        )
    return float(value)
