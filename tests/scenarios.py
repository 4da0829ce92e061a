"""What the tests expect of the mock scenarios. The scenarios themselves are the package's one
table, `MOCK_SCENARIOS` in snippets/scenarios.py: a row there is what `--mock NAME` runs and
what a docs block's `mock="NAME"` runs against. What follows only names its rows:

- docs blocks name a row in their settings, ```python {mock="rate-limited"}; a ```json block
  shows the body the mock answers to the row's shown request (`SHOWN_REQUESTS`, a GET of
  hello-world unless it says otherwise; a title "HTTP NNN ..." is checked too);
- the contract test validates every request and response of every row against the OpenAPI
  document (tests/mock_api/test_contract.py), except the rows `OUTSIDE_CONTRACT`;
- a test run once per row takes its rows from `each_scenario()`: `nox -s docs` runs the healthy
  row, `nox -s matrix` every other (the `matrix` marker);
- the fault matrix calls every client method in every row with an `Outcome` that is an error:
  the documented exception, number of requests and (fake) time (tests/client/test_fault_matrix.py).

tests/test_scenarios.py holds every name here to a row of the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from snippets.client import (
    INITIAL_BACKOFF,
    JITTER,
    MAX_BACKOFF,
    AuthenticationError,
    NetworkError,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from snippets.mock_api import MOCK_API_KEY
from snippets.scenarios import HEALTHY, MOCK_SCENARIOS, MockScenario

# With the client's defaults: a 30 s deadline, 2 retries after the first attempt.
TIMEOUT = 30.0
ALL_ATTEMPTS = 3
# The backoff before retry n is at most min(8, 0.5 * 2**n): 0.5 s, then 1 s.
BACKOFF = [min(MAX_BACKOFF, INITIAL_BACKOFF * 2**n) for n in range(ALL_ATTEMPTS - 1)]


def each_scenario(names: Iterable[str] = MOCK_SCENARIOS) -> list[Any]:
    """`names` (the rows of the table) as the parameters of a test run once per row: the healthy
    row in `nox -s docs`; every other row is marked `matrix`, for `nox -s matrix` (CI runs both),
    so the quick session still runs each such test once."""
    return [
        pytest.param(name, marks=() if name == HEALTHY else pytest.mark.matrix, id=name)
        for name in names
    ]


def asked(seconds: float) -> float:
    """The longest wait for a `Retry-After` of `seconds`: never shorter, up to 25 % longer."""
    return seconds * (1 + JITTER)


@dataclass(frozen=True)
class Outcome:
    """What any one client call meets in a scenario, with the client's default settings."""

    error: type[PromptOpsError] | None  # None: the call succeeds
    attempts: int  # requests the call sends
    max_seconds: float  # the most (fake) time it may take


SUCCEEDS = Outcome(None, 1, 0)


def at_once(error: type[PromptOpsError]) -> Outcome:
    """Raised after one request, without waiting: not worth retrying, or no time to."""
    return Outcome(error, 1, 0)


OUTCOMES: dict[str, Outcome] = {
    "healthy": SUCCEEDS,
    "latency-50ms": Outcome(None, 1, 0.050),
    # The client's key is not (or no longer) accepted: revoked, or never valid.
    "wrong-key": at_once(AuthenticationError),
    "auth-key-revoked": at_once(AuthenticationError),
    "clock-skew": at_once(AuthenticationError),
    "rate-limited-once": Outcome(None, 2, asked(2)),
    # retry_after 60 s does not fit the 30 s deadline: raised at once.
    "rate-limited": at_once(RateLimitError),
    "rate-limited-2s": Outcome(RateLimitError, ALL_ATTEMPTS, 2 * asked(2)),
    "rate-limited-in-the-body-only": Outcome(RateLimitError, ALL_ATTEMPTS, 2 * asked(3)),
    "rate-limited-without-retry-after": Outcome(RateLimitError, ALL_ATTEMPTS, sum(BACKOFF)),
    # A plan's quota spent: retry_after is over max_retry_after (60 s), raised at once.
    "quota-exhausted": at_once(RateLimitError),
    "server-error-once": Outcome(None, 2, BACKOFF[0]),
    "server-error": Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
    "server-error-500": Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
    "server-error-502": Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
    "gateway-timeout": Outcome(RequestTimeoutError, ALL_ATTEMPTS, sum(BACKOFF)),
    "connection-refused": Outcome(NetworkError, ALL_ATTEMPTS, sum(BACKOFF)),
    # No answer at all: each attempt times out at its share of the deadline (10 s of 30), and
    # is retried while time is left; the deadline ends the call.
    "connect-timeout": Outcome(RequestTimeoutError, ALL_ATTEMPTS, TIMEOUT),
    "read-timeout": Outcome(RequestTimeoutError, ALL_ATTEMPTS, TIMEOUT),
    "truncated-json": at_once(ServerError),
    "malformed-json": at_once(ServerError),
    "json-as-text-plain": at_once(ServerError),
    "proxy-error-page": Outcome(ServerError, ALL_ATTEMPTS, sum(BACKOFF)),
}
"""What every client call meets in a row, where that does not depend on the call (a missing
prompt, a new key, a fault on some paths only: those rows are not here)."""

FAULTS = [name for name, outcome in OUTCOMES.items() if outcome.error]
"""The rows in which every client call fails the same way: the fault matrix's."""

OUTSIDE_CONTRACT = frozenset(
    {"truncated-json", "malformed-json", "json-as-text-plain", "proxy-error-page", "proxy-403"}
)
"""Rows in which the mock answers as a broken proxy would, outside the API contract on purpose."""


@dataclass(frozen=True)
class ShownRequest:
    """The request whose answer a ```json block shows: signed with `api_key`."""

    method: str = "GET"
    path: str = "/v1/client/prompts/hello-world"
    body: Any = None
    api_key: str = field(default=MOCK_API_KEY, repr=False)  # keys stay out of reprs


SHOWN_REQUESTS: dict[str, ShownRequest] = {
    "unknown-prompt": ShownRequest(path="/v1/client/prompts/hello-wrold"),
    "missing-variable": ShownRequest(
        "POST", "/v1/client/prompts/welcome-message/render", {"variables": {"name": "Ada"}}
    ),
}
"""The request whose answer a ```json block of a row shows, where it is not the default."""


def shown_request(name: str) -> ShownRequest:
    return SHOWN_REQUESTS.get(name, ShownRequest())


def scenario_of_block(name: str, where: str) -> MockScenario:
    """The row a docs block names (`mock="NAME"`), or fail naming the block and the row."""
    assert name in MOCK_SCENARIOS, (
        f"{where}: unknown mock scenario {name!r}: not a row of MOCK_SCENARIOS "
        "(snippets/scenarios.py)"
    )
    scenario = MOCK_SCENARIOS[name]
    assert not scenario.breaks_the_network, (
        f"{where}: mock={name!r} breaks DNS or TLS, which only `--mock {name}` simulates: "
        "a block runs against the mock over HTTP alone (show the command in a console block)"
    )
    return scenario
