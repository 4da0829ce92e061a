"""`PromptOpsClient`: a small async client for the PromptOps API, built on httpx."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import inspect
import json as jsonlib
import logging
import math
import random
import weakref
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import httpx

from .clock import SYSTEM_CLOCK, Clock
from .errors import (
    ERRORS_BY_CODE,
    ConfigurationError,
    NetworkError,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    describe_transport_error,
    is_permanent,
    is_retryable,
    spec_for_status,
)
from .models import (
    HealthStatus,
    Probe,
    Prompt,
    PromptVariables,
    RenderedPrompt,
    check_prompt_id,
)
from .ratelimit import RateLimiter
from .redaction import MAX_SERVER_TEXT, printable, redact_url, scrub, shown
from .settings import Settings, read_settings
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger("promptops")

# Backoff between retries: 0.5 s, 1 s, 2 s, ... capped at 8 s, each shortened by up to 25 %
# at random so that many clients failing together do not retry together. A wait the server
# asks for (Retry-After) is lengthened by up to 25 % instead: never shorter than asked.
INITIAL_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 8.0
JITTER: Final = 0.25
# httpx's own defaults: `httpx.Limits()` with no arguments would be unlimited.
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)
# A `retry_after` longer than this is not waited for: the error is raised at once.
MAX_RETRY_AFTER: Final = 60.0
# The batch-render endpoint takes at most this many items per call.
MAX_BATCH: Final = 50
# A response body larger than this is refused while it streams in (10 MiB).
MAX_RESPONSE_BYTES: Final = 10 * 1024 * 1024

T = TypeVar("T")


class _ScrubSecrets(logging.Filter):
    """Takes the key of every open client, and any bearer token or signature, out of what
    httpx and httpcore log: at DEBUG, httpcore logs response headers as received, and a server
    may echo the key in one. A key is forgotten when its last client closes (or is collected),
    so the cost of a record stays that of the keys in use."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message, list(self.secrets))
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True

    def forget(self, secret: str) -> None:
        self.secrets[secret] -= 1
        if self.secrets[secret] <= 0:
            del self.secrets[secret]


_LOG_SCRUBBER: Final = _ScrubSecrets()
# A logger's filter sees only its own records, not its children's: name each one that logs.
_TRANSPORT_LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def _scrub_from_transport_logs(secret: str) -> None:
    _LOG_SCRUBBER.secrets[secret] += 1
    for name in _TRANSPORT_LOGGERS:
        transport_logger = logging.getLogger(name)
        if _LOG_SCRUBBER not in transport_logger.filters:
            transport_logger.addFilter(_LOG_SCRUBBER)


class PromptOpsAuth(httpx.Auth):
    """Adds the bearer key and a fresh signature to every request, retries included."""

    requires_request_body = True

    def __init__(self, api_key: str, clock: Clock) -> None:
        self._api_key = api_key
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = int(self.clock.time())
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

    Only `PromptOpsError` subclasses leave its methods, whatever the server sends. Their
    messages never contain the API key or a signature, and text that came from the server is
    shown with control characters escaped, on one line.

    Args:
        api_key: Your API key; defaults to the `PROMPTOPS_API_KEY` environment variable.
        base_url: API root; defaults to `PROMPTOPS_BASE_URL`, else `https://api.promptops.com`.
        settings: The key, base URL, proxy and CAs, already read (`read_settings`), instead of
            `api_key` and `base_url` and the environment: what the guide's tools pass. Read
            without a key (`require_key=False`), the client calls public endpoints only.
        timeout: Overall deadline in seconds for one call: waiting for a connection,
            connecting, every attempt, every byte of every answer and every wait between
            retries.
        attempt_timeout: Seconds one attempt may take, within what is left of `timeout`; by
            default `timeout` shared between the attempts (`timeout / (max_retries + 1)`), so
            that an attempt that hangs leaves time for a retry.
        max_retries: Retries after the first attempt, for connect errors, attempts that timed
            out, 408, 429, 5xx.
        cache_ttl: Seconds `get_prompt` results are cached; 0 turns the cache off.
        max_retry_after: Longest `retry_after` the client will wait; longer ones raise at once.
        max_response_bytes: Largest response body accepted (10 MiB); a larger one is refused
            while it streams in, so it never fills memory.
        limits: Connection pool limits (`httpx.Limits`); httpx's defaults otherwise: 100
            connections, 20 kept alive. A call waiting for a free connection waits within its
            deadline, and a timeout says so.
        rate_limiter: A `RateLimiter` shared by every client on the same key: each attempt
            waits for it (within the deadline), and a 429's or 503's `Retry-After` pauses all
            of them.
        event_hooks: httpx event hooks (`{"request": [...], "response": [...]}`), for logging.
            A hook that raises is logged and ignored: it never fails a call.
        transport: An httpx transport (tests, proxies); default is httpx's.
        clock: Where time comes from; tests pass a `FakeClock`.

    The environment is read once, here (`snippets.client.settings`): the key, the base URL,
    the proxy httpx would choose (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) and the CAs
    (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else certifi's). httpx itself reads nothing from it.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        settings: Settings | None = None,
        timeout: float = 30.0,
        attempt_timeout: float | None = None,
        max_retries: int = 2,
        cache_ttl: float = 300.0,
        max_retry_after: float = MAX_RETRY_AFTER,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        limits: httpx.Limits | None = None,
        rate_limiter: RateLimiter | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if settings is None:
            settings = read_settings(api_key=api_key, base_url=base_url)
        elif api_key is not None or base_url is not None:
            raise ConfigurationError("pass settings, or api_key and base_url: not both")
        self.settings = settings
        self._api_key = settings.api_key.value if settings.api_key else None
        self._forget_key: weakref.finalize[Any, Any] | None = None
        if self._api_key is not None:
            _scrub_from_transport_logs(self._api_key)
            # The key goes with its client: at aclose(), or when it is collected unclosed.
            self._forget_key = weakref.finalize(self, _LOG_SCRUBBER.forget, self._api_key)
        self.base_url = settings.base_url.value
        # A missing or broken CA bundle fails here, not at a request.
        self._verify = settings.trust.value.context()
        self._proxy = settings.proxy.value
        # What could leak or misroute requests is logged; the tools report the rest.
        for setting in (settings.base_url, settings.proxy):
            for note in setting.notes:
                self._log(logging.WARNING, "PromptOps client: %s: %s", setting.source, note)
        self.timeout = _check_seconds("timeout", timeout, allow_zero=False)
        self.cache_ttl = _check_seconds("cache_ttl", cache_ttl, allow_zero=True)
        self.max_retry_after = _check_seconds("max_retry_after", max_retry_after, allow_zero=True)
        self.max_retries = _check_count("max_retries", max_retries, minimum=0)
        self.attempt_timeout = (
            self.timeout / (self.max_retries + 1)
            if attempt_timeout is None
            else _check_seconds("attempt_timeout", attempt_timeout, allow_zero=False)
        )
        self.max_response_bytes = _check_count("max_response_bytes", max_response_bytes, minimum=1)
        self._limits = limits or DEFAULT_LIMITS
        self.rate_limiter = rate_limiter
        self._event_hooks = {
            name: [self._guarded(hook) for hook in hooks]
            for name, hooks in (event_hooks or {}).items()
        }
        self._transport = transport
        self.clock = clock
        self._http: httpx.AsyncClient | None = None
        self._cache: dict[str, tuple[float, Prompt]] = {}
        self._in_flight: dict[str, _Fill] = {}
        self._slots: asyncio.Semaphore | None = None
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
                verify=self._verify,
                # The proxy read with the other settings; httpx reads no environment itself.
                proxy=self._proxy.url if self._proxy and self._transport is None else None,
                trust_env=False,
                auth=PromptOpsAuth(self._api_key, self.clock) if self._api_key else None,
                # Only the encodings the client decompresses itself, within its size limit.
                headers={"User-Agent": "promptops-docs-client/0.1", "Accept-Encoding": ACCEPTED},
                limits=self._limits,
                event_hooks=self._event_hooks,
                transport=self._transport,
                # A redirect is an error: the signature covers the path, and following one
                # could hand the key to another host.
                follow_redirects=False,
            )
            # Calls wait here for a free connection, not in httpx's pool: a wait there costs
            # every other waiter time (2,000 of them took minutes), a wait here does not.
            limit = self._limits.max_connections
            self._slots = asyncio.Semaphore(limit) if limit else None

    async def aclose(self) -> None:
        """Close the connection pool, and stop what is in flight. Safe to call twice."""
        for fill in self._in_flight.values():
            fill.task.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._forget_key is not None:
            self._forget_key()  # runs once; a client used again scrubs with what is left
            self._forget_key = None

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

        def parse(data: Any) -> HealthStatus:
            return HealthStatus(
                status=_field(data, "status", str), version=_field(data, "version", str)
            )

        return await self._request("GET", "/v1/client/health", parse)

    async def list_prompts(self) -> list[str]:
        """The ids of the prompts this API key can use."""

        def parse(data: Any) -> list[str]:
            items = _field(data, "prompts", list)
            return [_field(item, "id", str, f"data.prompts[{n}]") for n, item in enumerate(items)]

        return await self._request("GET", "/v1/client/prompts", parse)

    async def get_prompt(self, prompt_id: str) -> Prompt:
        """Fetch a prompt; served from the cache for `cache_ttl` seconds after a fetch.

        Concurrent calls for the same id share one request: the first fetches, the others
        wait for its result (and count as cache hits).
        """
        cached = self._cache.get(prompt_id) if isinstance(prompt_id, str) else None
        if cached is not None and cached[0] > self.clock.monotonic():
            self._hits += 1  # only valid ids are ever cached: no need to check it again
            return cached[1]
        check_prompt_id(prompt_id)
        fill = self._in_flight.get(prompt_id)
        if fill is None:
            self._misses += 1
            fill = self._in_flight[prompt_id] = _Fill(self._fetch_prompt(prompt_id))
        else:
            self._hits += 1
        fill.waiters += 1
        try:
            # One waiter's cancellation must not cancel the fetch the others wait for...
            return await asyncio.shield(fill.task)
        finally:
            fill.waiters -= 1
            if fill.waiters == 0:  # ...but once the last one has gone, nobody needs it
                fill.task.cancel()
                if self._in_flight.get(prompt_id) is fill:
                    del self._in_flight[prompt_id]

    async def _fetch_prompt(self, prompt_id: str) -> Prompt:
        def parse(data: Any) -> Prompt:
            _expect_id(_field(data, "id", str), prompt_id, "data.id")
            variables = _field(data, "variables", list)
            return Prompt(
                id=prompt_id,
                name=_field(data, "name", str),
                template=_field(data, "template", str),
                variables=tuple(
                    _item(v, str, f"data.variables[{n}]") for n, v in enumerate(variables)
                ),
                version=_field(data, "version", int),
            )

        prompt = await self._request("GET", f"/v1/client/prompts/{prompt_id}", parse)
        if self.cache_ttl > 0:
            self._cache[prompt_id] = (self.clock.monotonic() + self.cache_ttl, prompt)
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

        def parse(data: Any) -> RenderedPrompt:
            _expect_id(_field(data, "prompt_id", str), prompt_id, "data.prompt_id")
            return RenderedPrompt(prompt_id=prompt_id, content=_field(data, "content", str))

        return await self._request(
            "POST",
            f"/v1/client/prompts/{prompt_id}/render",
            parse,
            json={"variables": dict(variables)},
        )

    async def batch_render(
        self, requests: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[RenderedPrompt | PromptOpsError]:
        """Render many prompts in as few calls as possible (up to 50 per call).

        Returns one result per request, in order: a `RenderedPrompt`, or the error for that
        item (an unknown id fails its item, not the batch). Every id and variable set is checked
        before anything is sent; an answer with more or fewer results than items is an error.
        """
        checked = [
            (check_prompt_id(prompt_id), dict(PromptVariables(variables)))
            for prompt_id, variables in requests
        ]
        results: list[RenderedPrompt | PromptOpsError] = []
        for start in range(0, len(checked), MAX_BATCH):
            chunk = checked[start : start + MAX_BATCH]
            results += await self._request(
                "POST",
                "/v1/client/prompts/batch-render",
                functools.partial(self._batch_results, [prompt_id for prompt_id, _ in chunk]),
                json={"requests": [{"prompt_id": p, "variables": v} for p, v in chunk]},
            )
        return results

    def _batch_results(
        self, prompt_ids: list[str], data: Any
    ) -> list[RenderedPrompt | PromptOpsError]:
        answers = _field(data, "results", list)
        if len(answers) != len(prompt_ids):
            raise _Malformed(f"{len(answers)} results for {len(prompt_ids)} requests")
        results: list[RenderedPrompt | PromptOpsError] = []
        for n, (answer, prompt_id) in enumerate(zip(answers, prompt_ids, strict=True)):
            where = f"data.results[{n}]"
            error = _item(answer, dict, where).get("error")
            if error is None:
                _expect_id(_field(answer, "prompt_id", str, where), prompt_id, f"{where}.prompt_id")
                results.append(RenderedPrompt(prompt_id, _field(answer, "content", str, where)))
            else:
                code = _field(error, "code", str, f"{where}.error")
                message = self._server_text(_field(error, "message", str, f"{where}.error"))
                spec = ERRORS_BY_CODE.get(code)
                results.append(spec.exception(message) if spec else PromptOpsError(message))
        return results

    def get_cache_stats(self) -> dict[str, Any]:
        """Cache counters: `hits`, `misses`, `hit_rate` (0.0-1.0) and `size` (live entries)."""
        now = self.clock.monotonic()
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

    async def _request(
        self, method: str, path: str, parse: Callable[[Any], T], *, json: Any = None
    ) -> T:
        """Send one API call and `parse` its `data`: retry what is worth retrying, all within
        one overall deadline."""
        if self._api_key is None:
            raise ConfigurationError(
                f"No API key: {method} {path} needs one (this client was made without a key "
                "for public endpoints)"
            )
        call = _Call(f"{method} {path}", self.clock, self._limits)
        try:
            # The deadline on the event loop's own clock: it bounds waiting for a connection,
            # every attempt, every byte and every wait, however slowly a server trickles.
            async with asyncio.timeout(self.timeout):
                return await self._attempts(call, method, path, parse, json)
        except TimeoutError:
            raise RequestTimeoutError(call.out_of_time(self.timeout)) from None

    async def _attempts(
        self, call: _Call, method: str, path: str, parse: Callable[[Any], T], json: Any
    ) -> T:
        await self.initialize()
        deadline = self.clock.monotonic() + self.timeout
        while True:
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise RequestTimeoutError(call.out_of_time(self.timeout))
            if self.rate_limiter is not None:
                call.phase = "waiting for the rate limiter"
                await self.rate_limiter.acquire()
                remaining = deadline - self.clock.monotonic()
            answer = await self._attempt(call, method, path, json, deadline, self.attempt_timeout)
            if isinstance(answer, PromptOpsError):
                error = answer
            else:
                status, headers, body = answer
                if self.rate_limiter is not None:
                    self.rate_limiter.observe(headers)
                envelope = _json_or_none(headers, body)
                if (
                    200 <= status < 300
                    and isinstance(envelope, dict)
                    and envelope.get("success") is True
                ):
                    try:
                        return parse(envelope.get("data"))
                    except _Malformed as exc:
                        raise ServerError(
                            f"{call.endpoint} answered HTTP {status} with a malformed body: {exc}",
                            status_code=status,
                        ) from None
                error = self._error_from(call.endpoint, status, headers, len(body), envelope)
                if self.rate_limiter is not None and error.retry_after is not None:
                    self.rate_limiter.pause(error.retry_after)  # for every client sharing it

            if call.timed_out and self.clock.monotonic() >= deadline:  # cut by the deadline
                raise RequestTimeoutError(call.out_of_time(self.timeout))
            delay = self._retry_delay(error, call.attempts - 1)
            if delay is None:
                raise error
            if self.clock.monotonic() + delay >= deadline:  # no time left to try again
                if call.timed_out:
                    raise RequestTimeoutError(call.out_of_time(self.timeout)) from None
                raise error
            self._log(
                logging.INFO,
                "%s %s failed with %s; retry %d of %d in %.1f s",
                method,
                path,
                error.code,
                call.attempts,
                self.max_retries,
                delay,
            )
            call.phase = "waiting to retry"
            await self.clock.sleep(delay)

    async def probe(self, path: str = "/v1/health", *, max_bytes: int = 64 * 1024) -> Probe:
        """GET `path` once, without the key, and say what answered.

        For the tools that check the way to the API and its clock: any PromptOps answer, even
        a 401, proves the path is reachable. It goes the way every call goes (the proxy, the
        CAs, the size limit, here `max_bytes`, counted as the body is decoded), within the
        client's `timeout`, and is never retried: a `NetworkError`, a `RequestTimeoutError`,
        or a `ServerError` for a body too large or undecodable.
        """
        await self.initialize()
        call = _Call(f"GET {path}", self.clock, self._limits)
        sent, started = self.clock.time(), self.clock.monotonic()
        try:
            async with asyncio.timeout(self.timeout):  # a wait for a free connection too
                answer = await self._attempt(
                    call,
                    "GET",
                    path,
                    None,
                    started + self.timeout,
                    self.timeout,
                    authenticate=False,
                    limit=max_bytes,
                )
        except TimeoutError:
            answer = RequestTimeoutError("")
        received, elapsed = self.clock.time(), self.clock.monotonic() - started
        if isinstance(answer, RequestTimeoutError):
            raise RequestTimeoutError(call.out_of_time(self.timeout))
        if isinstance(answer, PromptOpsError):
            raise answer
        status, headers, body = answer
        envelope = _json_or_none(headers, body)
        error = envelope.get("error") if isinstance(envelope, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return Probe(
            path=path,
            status=status,
            is_envelope=isinstance(envelope, dict) and isinstance(envelope.get("success"), bool),
            code=self._server_text(code, 50) if isinstance(code, str) else None,
            server_time=_http_date(headers.get("Date")),
            sent=sent,
            received=received,
            elapsed=elapsed,
            content_type=self._server_text(headers.get("Content-Type", ""), 100),
        )

    async def _attempt(
        self,
        call: _Call,
        method: str,
        path: str,
        json: Any,
        deadline: float,
        share: float,
        *,
        authenticate: bool = True,
        limit: int | None = None,
    ) -> tuple[int, httpx.Headers, bytes] | PromptOpsError:
        """One attempt: a free connection (waited for within the call's `deadline`), then at
        most `share` seconds; the status, headers and body, or the error that ended it."""
        slots = self._slots or contextlib.nullcontext()
        call.start_attempt(self._slots is not None and self._slots.locked())
        seconds = share
        try:
            async with slots:
                call.got_a_connection()
                seconds = min(share, deadline - self.clock.monotonic())
                async with asyncio.timeout(seconds):
                    return await self._send(call, method, path, json, seconds, authenticate, limit)
        except (TimeoutError, httpx.TimeoutException) as exc:
            tries = self.max_retries + 1 if authenticate else 1
            return RequestTimeoutError(call.attempt_timed_out(exc, seconds, tries))
        except PromptOpsError as exc:  # the body was too large or undecodable
            return exc
        except Exception as exc:  # any other failure to send or receive
            detail = self._server_text(describe_transport_error(exc))
            return NetworkError(
                f"Could not reach {self.base_url}: {detail}", permanent=is_permanent(exc)
            )

    async def _send(
        self,
        call: _Call,
        method: str,
        path: str,
        json: Any,
        time_left: float,
        authenticate: bool = True,
        limit: int | None = None,
    ) -> tuple[int, httpx.Headers, bytes]:
        """One attempt: the status, headers and body, read up to `limit` bytes
        (`max_response_bytes`)."""
        assert self._http is not None
        limit = self.max_response_bytes if limit is None else limit
        async with self._http.stream(
            method,
            path,
            json=json,
            timeout=httpx.Timeout(time_left),
            auth=httpx.USE_CLIENT_DEFAULT if authenticate else None,
            extensions={"trace": call.trace},
        ) as response:
            status = response.status_code
            call.answered()

            def too_large(size: str) -> ServerError:
                return ServerError(
                    f"{method} {path} answered HTTP {status} with a body of {size}, over the "
                    f"{limit} byte limit (max_response_bytes)",
                    status_code=status,
                )

            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise too_large(f"{printable(declared, 30)} bytes")
            if response.is_stream_consumed:  # an answer built in memory (httpx.MockTransport)
                if len(response.content) > limit:
                    raise too_large(f"more than {limit} bytes")
                return status, response.headers, response.content
            # Read the bytes as sent and decompress them here, within the limit: httpx would
            # decompress each chunk whole, and a small gzip bomb fills memory.
            raw = bytearray()
            async for chunk in response.aiter_raw():
                raw += chunk
                if len(raw) > limit:
                    raise too_large(f"more than {limit} bytes")
            encoding = response.headers.get("Content-Encoding", "")
            try:
                body = _decompressed(raw, encoding, limit)
            except _TooLarge:
                raise too_large(f"more than {limit} bytes once decompressed") from None
            except (ValueError, zlib.error) as exc:
                raise ServerError(
                    f"{method} {path} answered HTTP {status} with a body that could not be "
                    f"decoded ({self._server_text(encoding)}): {self._server_text(str(exc))}",
                    status_code=status,
                ) from None
            return status, response.headers, body

    def _retry_delay(self, error: PromptOpsError, attempt: int) -> float | None:
        """Seconds to wait before retrying `error`, or None if it must not be retried.

        The wait is the backoff, or the server's `retry_after` (a 429's, or a 503's
        `Retry-After`) if that is longer: a `Retry-After` of 0, negative, NaN or in the past
        never makes the client hammer the API.
        """
        if attempt >= self.max_retries or not is_retryable(error):
            return None
        backoff = min(MAX_BACKOFF, INITIAL_BACKOFF * 2.0**attempt)
        backoff *= 1 - JITTER * random.random()
        if error.retry_after is None:
            return backoff
        if error.retry_after > self.max_retry_after:
            return None
        # Never sooner than asked; later by up to 25 %, so that every client told the same
        # wait does not come back at the same instant.
        return max(error.retry_after * (1 + JITTER * random.random()), backoff)

    def _error_from(
        self,
        endpoint: str,
        status: int,
        headers: httpx.Headers,
        size: int,
        envelope: Any,
    ) -> PromptOpsError:
        """The exception for a failed answer. Its class follows the HTTP status (the body may
        lie: a 401 that says RATE_LIMIT_ERROR is an AuthenticationError); only for a status the
        catalog does not map does the body's code choose it."""
        spec = spec_for_status(status)
        error = envelope.get("error") if isinstance(envelope, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            code = error["code"]
            message = self._server_text(str(error.get("message", "")))
            by_code = ERRORS_BY_CODE.get(code)
            if spec is None:
                spec = by_code
            if spec is None or spec is not by_code:  # say what the body claimed
                message = f"{printable(code, 50)}: {message}"
            fallback: type[PromptOpsError] = PromptOpsError  # an envelope: an API we do not know
            body_retry_after = error.get("retry_after")
        else:
            content_type = self._server_text(headers.get("Content-Type", "no content type"))
            message = (
                f"{endpoint} answered HTTP {status} with a body that is not a PromptOps JSON "
                f"envelope ({content_type}, {size} bytes)"
            )
            if 300 <= status < 400:
                location = redact_url(self._server_text(headers.get("Location", "nowhere")))
                message += f": a redirect to {location}, which the client does not follow"
            fallback = ServerError  # not an envelope: something else answered, or misbehaved
            body_retry_after = None
        cls = spec.exception if spec else fallback
        if cls is RateLimitError:
            retry_after = _retry_after(body_retry_after, headers, self.clock)
            return RateLimitError(message, status_code=status, retry_after=retry_after)
        error = cls(message, status_code=status)
        if status == 503:  # Service Unavailable: Retry-After says when to come back (RFC 9110)
            error.retry_after = _retry_after(body_retry_after, headers, self.clock)
        return error

    def _server_text(self, text: str, limit: int = MAX_SERVER_TEXT) -> str:
        """Text from outside the client, safe to raise: no key or signature, one line, cut at
        `limit` characters before anything else (a server's 9 MB message costs nothing)."""
        return shown(text, [self._api_key] if self._api_key else [], limit)

    def _guarded(self, hook: Callable[..., Any]) -> Callable[[Any], Awaitable[None]]:
        """Wrap an event hook so that its failure is logged, not raised: logging a call must
        never fail it."""
        name = getattr(hook, "__name__", repr(hook))

        async def run(subject: Any) -> None:
            try:
                result = hook(subject)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._log(
                    logging.WARNING,
                    "event hook %s failed, ignored: %s",
                    name,
                    self._server_text(f"{type(exc).__name__}: {exc}"),
                )

        return run

    @staticmethod
    def _log(level: int, message: str, *args: Any) -> None:
        """Log; a broken handler or filter must not turn a working call into a failure."""
        with contextlib.suppress(Exception):
            logger.log(level, message, *args)


class _Fill:
    """One fetch of a prompt that every concurrent `get_prompt` of its id waits for."""

    def __init__(self, fetch: Coroutine[Any, Any, Prompt]) -> None:
        self.task: asyncio.Task[Prompt] = asyncio.ensure_future(fetch)
        self.task.add_done_callback(_retrieved)  # a failure its waiters did not see is no news
        self.waiters = 0


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


class _Call:
    """One call's attempts, and where the current one is: what a timeout's message says.

    The phase is set as the attempt goes, from httpcore's trace events where there are some
    (a real connection), else from what the client itself sees. Time spent waiting for a free
    connection of the pool is added up: a call that waited there most of its deadline got a
    connection too late, which looks like a dead server but is the client's own pool.
    """

    _TRACE: Final = (
        ("connection.connect_tcp", "connecting"),
        ("connection.connect_unix_socket", "connecting"),
        ("connection.start_tls", "in the TLS handshake"),
        ("http11.send_request", "sending the request"),
        ("http2.send_request", "sending the request"),
        ("http11.receive_response_headers", "waiting for the answer"),
        ("http2.receive_response_headers", "waiting for the answer"),
        ("http11.receive_response_body", "reading the answer"),
        ("http2.receive_response_body", "reading the answer"),
    )
    _POOL: Final = "waiting for a free connection"

    def __init__(self, endpoint: str, clock: Clock, limits: httpx.Limits) -> None:
        self.endpoint, self.clock, self.limits = endpoint, clock, limits
        self.attempts = 0
        self.phase = "waiting for the answer"
        self.timed_out = False  # the last attempt ended in a timeout
        self.pool_wait = 0.0  # seconds the attempts waited for a free connection
        self._queued_at: float | None = None  # since when the current one waits for one

    def start_attempt(self, pool_full: bool) -> None:
        self.attempts += 1
        self.timed_out = False
        self.phase = self._POOL if pool_full else "waiting for the answer"
        self._queued_at = self.clock.monotonic() if pool_full else None

    def got_a_connection(self) -> None:
        """The attempt may go: count how long it waited for a free connection, if it did."""
        self._count_the_wait()
        if self.phase == self._POOL:
            self.phase = "waiting for the answer"

    def _count_the_wait(self) -> None:
        if self._queued_at is not None:
            self.pool_wait += self.clock.monotonic() - self._queued_at
            self._queued_at = None

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        self.got_a_connection()  # any event: the request has a connection
        for prefix, phase in self._TRACE:
            if name.startswith(prefix):
                self.phase = phase
                return

    def answered(self) -> None:
        self._count_the_wait()
        self.phase = "reading the answer"

    def attempt_timed_out(self, exc: BaseException, seconds: float, tries: int) -> str:
        """The message of an attempt that timed out, saying where it was (`tries`: how many
        attempts the call may make)."""
        self.timed_out = True
        if isinstance(exc, httpx.PoolTimeout):
            self.phase = self._POOL
        elif isinstance(exc, httpx.ConnectTimeout):
            self.phase = "connecting"
        elif isinstance(exc, httpx.WriteTimeout):
            self.phase = "sending the request"
        self._count_the_wait()  # or gave up waiting for one: count the wait
        which = f"attempt {self.attempts} of {tries} " if tries > 1 else ""
        return f"{self.endpoint}: {which}timed out after {seconds:.3g} s, {self._where()}"

    def out_of_time(self, deadline: float) -> str:
        """The message of a call whose deadline passed."""
        self._count_the_wait()
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.attempts == 0:
            where = f"it passed while {self.phase}, before any attempt"
        elif self.phase in ("waiting to retry", "waiting for the rate limiter"):
            where = f"{tries}; it passed while {self.phase}"
        else:
            where = (
                f"{tries}; {'the last' if self.attempts > 1 else 'it'} timed out {self._where()}"
            )
        return f"{self.endpoint}: no answer within the {deadline:g} s deadline ({where})"

    def _where(self) -> str:
        """The phase, and the pool's part: all its connections in use, how long it waited."""
        full = f"all {self.limits.max_connections} of the client's connections were in use"
        if self.phase == self._POOL:
            return f"{self._POOL} ({full})"
        if self.pool_wait >= 0.1:
            return (
                f"{self.phase}, after {self.pool_wait:.2g} s waiting for a free connection ({full})"
            )
        return self.phase


ACCEPTED: Final = "gzip, deflate"


class _TooLarge(Exception):
    """A body that decompresses to more than the size limit."""


def _decompressed(raw: bytes | bytearray, encoding: str, limit: int) -> bytes:
    """`raw` decoded from its `Content-Encoding` (gzip, deflate, or none), 64 KiB of output at
    a time, never more than `limit` bytes in all; `_TooLarge` past it, `ValueError` for
    another encoding."""
    data = bytes(raw)
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            wbits = zlib.MAX_WBITS | 16
        elif coding == "deflate":  # zlib-wrapped, as the standard says; raw deflate is common
            wbits = zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS
        else:
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
        decompressor, output, pending = zlib.decompressobj(wbits), bytearray(), data
        while True:
            piece = decompressor.decompress(pending, 65536)
            output += piece
            if len(output) > limit:
                raise _TooLarge
            pending = decompressor.unconsumed_tail
            if not pending and len(piece) < 65536:
                break
        data = bytes(output)
    if len(data) > limit:
        raise _TooLarge
    return data


class _Malformed(Exception):
    """A success body without what its endpoint promises; the message says what is wrong."""


_JSON_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


def _item(value: Any, kind: type[T], where: str) -> T:
    """`value`, checked to be a `kind` (JSON's true is not an integer)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        found = _JSON_NAMES.get(type(value), type(value).__name__)
        raise _Malformed(f"{where} is {found}, not {_JSON_NAMES[kind]}")
    return value


def _field(obj: Any, name: str, kind: type[T], where: str = "data") -> T:
    """`obj[name]`, checked to be a `kind`; `where` names `obj` in the error message."""
    if not isinstance(obj, dict):
        _item(obj, dict, where)
    if name not in obj:
        raise _Malformed(f"{where}.{name} is missing")
    return _item(obj[name], kind, f"{where}.{name}")


def _expect_id(answered: str, requested: str, where: str) -> None:
    if answered != requested:
        raise _Malformed(
            f"{where} is {printable(answered, 130)!r}, not the requested {requested!r}"
        )


def _retry_after(value: Any, headers: httpx.Headers, clock: Clock) -> float | None:
    """Seconds to wait from the body's `retry_after`, else the `Retry-After` header (seconds or
    an HTTP date); None when neither gives a wait above 0 (0, negative, NaN, a past date)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and _positive(value):
        return _positive(value)
    header = headers.get("Retry-After")
    if header is None:
        return None
    try:
        return _positive(float(header))
    except ValueError:
        pass
    when = _http_date(header)
    return None if when is None else _positive(when - clock.time())


def _http_date(header: str | None) -> float | None:
    """An HTTP date (`Date`, `Retry-After`) as Unix time; None if absent or not a date this
    machine can represent (a 20-digit year)."""
    if header is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


def _positive(seconds: float) -> float | None:
    """`seconds` as a float if it is above 0 (a 400-digit integer is infinity), else None."""
    try:
        value = float(seconds)
    except OverflowError:
        value = math.inf
    return value if value > 0 else None  # NaN > 0 is False


def _json_or_none(headers: httpx.Headers, body: bytes | bytearray) -> Any:
    """The parsed body, or None if it is not JSON (a proxy's page, cut off, mislabelled, or
    nested too deeply to parse)."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return None
    try:
        return jsonlib.loads(body)
    except (ValueError, RecursionError):  # not JSON, truncated, not UTF-8, or too deep
        return None


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


def _check_count(name: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value
