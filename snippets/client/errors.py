"""The PromptOps error catalog and one exception class per error code.

The catalog is the single source for what the API answers on failure (the mock
serves it), which failures the client retries, and the error matrix the docs
print. Change an entry here and the mock, the client and the pages follow.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from dataclasses import dataclass
from typing import ClassVar

import httpcore
import httpx


class PromptOpsError(Exception):
    """Base class of every error the PromptOps client raises.

    `code` is the machine-readable error code from the API's error envelope (or
    one the client raises itself for transport failures); `message` is for people.
    """

    code: ClassVar[str] = "PROMPTOPS_ERROR"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after: float | None = None
        """Seconds the API asked to wait before trying again (a 429's or a 503's
        `Retry-After`), if it said."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class AuthenticationError(PromptOpsError):
    """The API key, the signature or the request timestamp was rejected."""

    code = "AUTHENTICATION_ERROR"


class RateLimitError(PromptOpsError):
    """Too many requests; `retry_after` says how many seconds to wait, if the API said."""

    code = "RATE_LIMIT_ERROR"

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class RequestTimeoutError(PromptOpsError):
    """The request took too long: the API's gateway gave up (504) or the deadline passed."""

    code = "TIMEOUT_ERROR"


class PromptNotFoundError(PromptOpsError):
    """No prompt has this id (for this API key)."""

    code = "PROMPT_NOT_FOUND"


class ValidationError(PromptOpsError, ValueError):
    """The request is invalid: checked by the client before sending, or by the API (422)."""

    code = "VALIDATION_ERROR"


class NetworkError(PromptOpsError):
    """The client could not reach the API: DNS, refused connection, TLS, reset.

    `permanent` is True when trying again cannot help (not retried, and not an outage): a
    certificate that does not verify, a host name that does not exist, a client used after
    its event loop closed.
    """

    code = "NETWORK_ERROR"

    def __init__(
        self, message: str, *, status_code: int | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.permanent = permanent


class ServerError(PromptOpsError):
    """The API failed (5xx) or answered with something that is not its JSON envelope."""

    code = "SERVER_ERROR"


class ConfigurationError(ValueError):
    """The client was set up wrongly (no API key, bad base URL, bad timeout).

    Raised by the constructor, before any request: fix the code or the
    environment, retrying will not help.
    """


@dataclass(frozen=True)
class ErrorSpec:
    """One row of the error catalog."""

    exception: type[PromptOpsError]
    status: int | None
    """HTTP status the API answers with; None for errors only the client raises."""
    retryable: bool
    cause: str
    solution: str
    prevention: str
    other_statuses: tuple[int, ...] = ()
    """Statuses that gateways and proxies send for the same failure (403, 408)."""
    any_5xx: bool = False
    """Also every 5xx status that no other row names."""

    @property
    def code(self) -> str:
        return self.exception.code


ERROR_CATALOG: tuple[ErrorSpec, ...] = (
    ErrorSpec(
        AuthenticationError,
        401,
        retryable=False,
        cause="Invalid API key, bad signature, or clock skew over 300 s",
        solution="Check `PROMPTOPS_API_KEY`; sync the clock (NTP)",
        prevention="Keep keys in a secret store; rotate with overlap",
        other_statuses=(403,),
    ),
    ErrorSpec(
        RateLimitError,
        429,
        retryable=True,
        cause="Too many requests for your plan",
        solution="Wait `retry_after` seconds; the client does this for you",
        prevention="Cache prompts, batch renders, share one `RateLimiter`",
    ),
    ErrorSpec(
        RequestTimeoutError,
        504,
        retryable=True,
        cause="No answer in time: the API's gateway (504), or the client's deadline",
        solution="Read where it timed out: the message says (the API, the network, the pool)",
        prevention="One client per process; a `timeout` below your own gateway's",
        other_statuses=(408,),
    ),
    ErrorSpec(
        PromptNotFoundError,
        404,
        retryable=False,
        cause="Unknown prompt id, or a typo in it",
        solution="List prompts with `GET /v1/client/prompts`",
        prevention="Keep prompt ids in one constant, not in string literals",
    ),
    ErrorSpec(
        ValidationError,
        422,
        retryable=False,
        cause="Missing template variable or malformed input",
        solution="Read the message: it names the field",
        prevention="Build variables with `PromptVariables`",
    ),
    ErrorSpec(
        NetworkError,
        None,
        retryable=True,
        cause="DNS, firewall, proxy or TLS problem",
        solution="Run the network diagnostics; a `permanent` one is not retried",
        prevention="Allow-list `api.promptops.com:443`; a circuit breaker for outages",
    ),
    ErrorSpec(
        ServerError,
        500,
        retryable=True,
        cause="PromptOps API failure (any 5xx) or a proxy's non-JSON answer",
        solution="Retry with backoff; check the status page",
        prevention="Retries with backoff and a deadline",
        any_5xx=True,
    ),
)

ERRORS_BY_CODE: dict[str, ErrorSpec] = {spec.code: spec for spec in ERROR_CATALOG}
_SPECS_BY_STATUS: dict[int, ErrorSpec] = {
    status: spec
    for spec in ERROR_CATALOG
    for status in (spec.status, *spec.other_statuses)
    if status is not None
}
_SPECS_BY_CLASS: dict[type[PromptOpsError], ErrorSpec] = {
    spec.exception: spec for spec in ERROR_CATALOG
}
_SPEC_FOR_OTHER_5XX = next(spec for spec in ERROR_CATALOG if spec.any_5xx)

RETRYABLE_ERRORS: tuple[type[PromptOpsError], ...] = tuple(
    spec.exception for spec in ERROR_CATALOG if spec.retryable
)
"""The errors the client retries by itself, from the catalog: when one reaches your code, the
failure lasted through every retry (an outage, not a mistake in the call)."""


def spec_for_status(status: int) -> ErrorSpec | None:
    """The catalog row for an HTTP error status: its own, else `SERVER_ERROR` for any other
    5xx; None for a status that is not one of the API's errors (2xx, 3xx, 400, 418, ...)."""
    spec = _SPECS_BY_STATUS.get(status)
    if spec is None and 500 <= status <= 599:
        spec = _SPEC_FOR_OTHER_5XX
    return spec


def is_retryable(error: PromptOpsError) -> bool:
    """The client's one retry rule, read from the catalog.

    An answer is retried if the catalog marks its HTTP status retryable, whatever its body
    says (a 401 is never retried). A failure without an answer (no status: network error,
    timeout) is retried if the catalog marks its class retryable.
    """
    if isinstance(error, NetworkError) and error.permanent:
        return False
    if error.status_code is None:
        spec = _SPECS_BY_CLASS.get(type(error))
    else:
        spec = spec_for_status(error.status_code)
    return spec is not None and spec.retryable


def error_matrix_markdown() -> str:
    """The error resolution matrix the docs include, written from the catalog.

    Six columns, the exception under its code: with identifiers that never break mid-word,
    that is what fits a page's column at 1280 px (on a phone, each row becomes a block).
    """
    lines = [
        "| Error code and exception | HTTP status | Retried | Common cause | Solution "
        "| Prevention |",
        "|---|---|---|---|---|---|",
    ]
    for spec in ERROR_CATALOG:
        status = "5xx" if spec.any_5xx else (spec.status or "none")
        lines.append(
            f"| `{spec.code}`<br>`{spec.exception.__name__}` | {status} "
            f"| {'yes' if spec.retryable else 'no'} | {spec.cause} | {spec.solution} "
            f"| {spec.prevention} |"
        )
    return "\n".join(lines) + "\n"


def is_permanent(exc: BaseException) -> bool:
    """Whether a failure to reach the API will happen again, whatever the wait: a certificate
    that does not verify, a name that does not exist (not a resolver that did not answer), a
    proxy that refuses the tunnel until its settings change (407: it wants credentials; 403:
    its policy), TLS spoken to a port that speaks plain HTTP (`WRONG_VERSION_NUMBER`: an
    https:// proxy URL for a plain proxy), an event loop already closed, or anything that is no
    network failure at all (a bug)."""
    cause: BaseException | None = exc
    transport = False
    for _ in range(10):  # a cause chain is short; never loop on a cycle
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        if isinstance(cause, ssl.SSLError) and cause.reason == "WRONG_VERSION_NUMBER":
            return True
        if isinstance(cause, httpx.ProxyError | httpcore.ProxyError) and str(cause)[:4] in (
            "403 ",
            "407 ",
        ):
            return True
        if isinstance(cause, socket.gaierror):
            return cause.errno == socket.EAI_NONAME
        if isinstance(cause, RuntimeError) and "Event loop is closed" in str(cause):
            return True
        transport = transport or isinstance(cause, _TRANSPORT_ERRORS)
        cause = cause.__cause__ or cause.__context__
    return not transport


_SSL_SOURCE_LINE = re.compile(r" \(_ssl\.c:\d+\)$")

_TRANSPORT_ERRORS = (OSError, httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError)


def describe_transport_error(exc: BaseException) -> str:
    """What went wrong under a transport error, as specifically as the exceptions say.

    On asyncio, httpx reports a refused or unreachable connection as "All connection attempts
    failed"; the OSError it wraps says "[Errno 111] Connection refused" or "[Errno 101] Network
    is unreachable". DNS and TLS errors say enough, without the line of Python's source that
    raised a TLS error (`(_ssl.c:1000)`: it differs from one Python version to the next).
    """
    cause: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; never loop on a cycle
        if cause is None:
            break
        if isinstance(cause, socket.gaierror):
            return str(cause)
        if isinstance(cause, ssl.SSLError):
            return _SSL_SOURCE_LINE.sub("", str(cause))
        if isinstance(cause, OSError) and cause.errno:
            return f"[Errno {cause.errno}] {os.strerror(cause.errno)}"
        if isinstance(cause, RuntimeError) and "Event loop is closed" in str(cause):
            return (
                "Event loop is closed: this client was used from another event loop than the "
                "one it connected on (one client per asyncio.run, or one loop for the program)"
            )
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__
