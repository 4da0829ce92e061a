"""Mock scenarios a docs block can name in its fence settings: ```python {mock="rate-limited"}.

A `json` block names the scenario whose response body it shows; the harness sends a signed
`GET /v1/client/prompts/hello-world` in that scenario and compares the body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI


@dataclass(frozen=True)
class Scenario:
    setup: Callable[[MockPromptOpsAPI], None]
    api_key: str = MOCK_API_KEY  # the key the JSON check signs with


def _forget_hello_world(api: MockPromptOpsAPI) -> None:
    del api.prompts["hello-world"]


SCENARIOS: dict[str, Scenario] = {
    "ok": Scenario(lambda api: None),
    "wrong-key": Scenario(lambda api: None, api_key="po_revoked"),
    "rate-limited": Scenario(lambda api: api.rate_limit(times=3, retry_after=60)),
    "gateway-timeout": Scenario(lambda api: api.gateway_timeout(times=3)),
    "server-error": Scenario(lambda api: api.server_error(times=3, status=503)),
    "unknown-prompt": Scenario(_forget_hello_world),
}
