"""Bad input, generated: every prompt id, variable set and client setting is either accepted
and works, or rejected with the documented error before any request. Never another exception,
and never a request the API contract forbids."""

from __future__ import annotations

import asyncio
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets.client import (
    ConfigurationError,
    PromptNotFoundError,
    PromptOpsClient,
    PromptVariables,
    ValidationError,
)
from snippets.client.models import PROMPT_ID_PATTERN
from snippets.mock_api import MockPromptOpsAPI

from ..contract import check_request, check_response

pytestmark = pytest.mark.matrix  # generated cases, hundreds a test: nox -s matrix

# 150 examples per property; 25 under mutmut, which reruns these for many mutants.
settings.register_profile("suite", max_examples=150)
settings.register_profile("mutation", max_examples=25)
settings.load_profile("mutation" if os.environ.get("MUTANT_UNDER_TEST") else "suite")
# The mock is a function-scoped fixture, shared by the examples of a test (each call reads only
# the requests it sent). And nothing timed: no deadline per example, no health check of how long
# generating the data took, so a busy machine fails nothing.
FIXTURES_OK_AT_ANY_SPEED = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
any_values = (
    json_values | st.binary() | st.sets(st.integers()) | st.builds(object) | st.complex_numbers()
)


def sent_during(api: MockPromptOpsAPI, call: Any) -> tuple[Any, list[Any]]:
    """Run `call(client)`; return (result or exception, the requests it sent)."""
    before = len(api.requests)

    async def main() -> Any:
        async with PromptOpsClient(max_retries=0, clock=api.clock) as client:
            return await call(client)

    try:
        outcome = asyncio.run(main())
    except Exception as exc:
        outcome = exc
    return outcome, api.requests[before:]


@FIXTURES_OK_AT_ANY_SPEED
@given(prompt_id=st.one_of(st.text(max_size=140), st.from_regex(PROMPT_ID_PATTERN, fullmatch=True)))
def test_any_prompt_id(mock_api: MockPromptOpsAPI, prompt_id: str) -> None:
    outcome, sent = sent_during(mock_api, lambda c: c.get_prompt(prompt_id))
    if isinstance(outcome, ValidationError):
        assert sent == [], "rejected ids must not reach the API"
        assert "Invalid prompt id" in outcome.message
        return
    assert PROMPT_ID_PATTERN.fullmatch(prompt_id)
    assert len(sent) == 1
    check_request(sent[0])
    if prompt_id in mock_api.prompts:
        assert outcome.id == prompt_id
    else:
        assert isinstance(outcome, PromptNotFoundError)


@FIXTURES_OK_AT_ANY_SPEED
@given(variables=st.dictionaries(st.text(max_size=12), any_values, max_size=4))
def test_any_variables(mock_api: MockPromptOpsAPI, variables: dict[str, Any]) -> None:
    outcome, sent = sent_during(mock_api, lambda c: c.render_prompt("hello-world", variables))
    if isinstance(outcome, ValidationError) and not sent:
        with pytest.raises(ValidationError):
            PromptVariables(variables)  # the same check, before any request
        return
    assert len(sent) == 1
    check_request(sent[0])
    check_response(*mock_api.exchanges[-1])
    if "name" in variables:
        assert outcome.content.startswith("Hello, ")
    else:
        assert isinstance(outcome, ValidationError) and "Missing variable" in outcome.message


settings_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)


@FIXTURES_OK_AT_ANY_SPEED
@given(
    timeout=settings_values,
    max_retries=settings_values,
    cache_ttl=settings_values,
    base_url=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.sampled_from(["http://localhost:1", "https://api.promptops.com/"]),
    ),
)
def test_any_client_settings(
    mock_api: MockPromptOpsAPI, timeout: Any, max_retries: Any, cache_ttl: Any, base_url: Any
) -> None:
    given_settings = {"timeout": timeout, "max_retries": max_retries, "cache_ttl": cache_ttl}
    given_settings = {k: v for k, v in given_settings.items() if v is not None}
    try:
        client = PromptOpsClient(base_url=base_url, **given_settings)
    except ConfigurationError as exc:
        assert str(exc)  # a message that names the setting
        assert any(name in str(exc) for name in ("timeout", "max_retries", "cache_ttl", "base_url"))
        return
    assert client.timeout > 0 and math.isfinite(client.timeout)
    assert client.cache_ttl >= 0 and isinstance(client.max_retries, int)
    assert client.base_url.startswith(("http://", "https://"))
