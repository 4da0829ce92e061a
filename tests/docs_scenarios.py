"""Mock scenarios a docs block can name in its fence settings: ```python {mock="rate-limited"}.

A `json` block names the scenario whose response body it shows; the harness sends that
scenario's signed request (by default `GET /v1/client/prompts/hello-world`) and compares the
body. A json block titled "HTTP NNN ..." also has its status checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI


@dataclass(frozen=True)
class Scenario:
    setup: Callable[[MockPromptOpsAPI], None]
    api_key: str = MOCK_API_KEY  # the key the JSON check signs with
    method: str = "GET"
    path: str = "/v1/client/prompts/hello-world"
    body: Any = None


def _forget_hello_world(api: MockPromptOpsAPI) -> None:
    del api.prompts["hello-world"]


def _nothing(api: MockPromptOpsAPI) -> None:
    pass


SCENARIOS: dict[str, Scenario] = {
    "ok": Scenario(_nothing),
    "wrong-key": Scenario(_nothing, api_key="po_revoked"),
    "rate-limited-once": Scenario(lambda api: api.rate_limit(times=1, retry_after=2)),
    "rate-limited": Scenario(lambda api: api.rate_limit(times=3, retry_after=60)),
    "quota-exhausted": Scenario(lambda api: api.rate_limit(times=3, retry_after=3600)),
    "gateway-timeout": Scenario(lambda api: api.gateway_timeout(times=3)),
    "server-error-once": Scenario(lambda api: api.server_error(times=1, status=503)),
    "server-error": Scenario(lambda api: api.server_error(times=3, status=503)),
    "unknown-prompt": Scenario(_forget_hello_world),
    "missing-variable": Scenario(
        _nothing,
        method="POST",
        path="/v1/client/prompts/welcome-message/render",
        body={"variables": {"name": "Ada"}},
    ),
    "connection-refused": Scenario(lambda api: api.connection_refused(times=3)),
    "clock-skew": Scenario(lambda api: api.clock_skew(-420)),
    "key-rotation": Scenario(lambda api: api.add_key("po_live_next_9d3b1f")),
    "latency-50ms": Scenario(lambda api: api.simulate_latency(0.050)),
}
