"""After a deploy: does this process talk to the API you meant, with the key
you meant, and can that key see the prompts the application uses?

Run it where the application runs (the container, the server), with the same
environment: a key from staging, or a base URL left pointing elsewhere, shows
up there and nowhere else. The key is shown only as a fingerprint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from snippets.client import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    AuthenticationError,
    ConfigurationError,
    PromptOpsClient,
    PromptOpsError,
)
from snippets.client.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class Check:
    status: Literal["OK", "FAIL"]
    name: str
    detail: str


def key_fingerprint(api_key: str) -> str:
    """A short SHA-256 of the key: compare keys without showing them."""
    digest = hashlib.sha256(api_key.strip().encode()).hexdigest()
    return f"sha256:{digest[:12]}"


async def check_deployment(
    prompt_ids: Sequence[str],
    *,
    expected_fingerprint: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[Check]:
    """Check the key, the base URL, that the API accepts the key, and that it
    sees every id in `prompt_ids`. Stops at the first check that fails."""
    env = os.environ if environ is None else environ
    key = env.get(API_KEY_ENV, "").strip()
    if not key:
        return [Check("FAIL", "key", f"{API_KEY_ENV} is not set here")]
    fingerprint = key_fingerprint(key)
    if expected_fingerprint not in (None, fingerprint):
        detail = f"{fingerprint}, not the {expected_fingerprint} you meant"
        return [Check("FAIL", "key", detail)]
    checks = [Check("OK", "key", f"{API_KEY_ENV} is set, {fingerprint}")]
    try:
        base_url = env.get(BASE_URL_ENV, DEFAULT_BASE_URL)
        client = PromptOpsClient(key, base_url=base_url, clock=clock)
    except ConfigurationError as exc:
        return [*checks, Check("FAIL", "base URL", str(exc))]
    checks.append(Check("OK", "base URL", client.base_url))
    try:
        async with client:
            health = await client.health_check()
            checks.append(
                Check("OK", "API", f"accepts the key (API {health.version})")
            )
            visible = await client.list_prompts()
    except AuthenticationError as exc:
        detail = f"{exc}: revoked, or a key of another workspace"
        return [*checks, Check("FAIL", "API", detail)]
    except PromptOpsError as exc:
        return [*checks, Check("FAIL", "API", str(exc))]
    missing = [
        prompt_id for prompt_id in prompt_ids if prompt_id not in visible
    ]
    if missing:
        detail = (
            f"not visible to this key: {', '.join(missing)} (it sees "
            f"{len(visible)}: {', '.join(visible)})"
        )
        checks.append(Check("FAIL", "prompts", detail))
    else:
        checks.append(Check("OK", "prompts", f"all {len(prompt_ids)} found"))
    return checks


def print_report(checks: Sequence[Check]) -> int:
    """Print one line per check; 1 if any failed, else 0."""
    for check in checks:
        print(f"{check.status:<5} {check.name:<9} {check.detail}")
    return 1 if any(check.status == "FAIL" for check in checks) else 0
