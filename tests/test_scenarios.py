"""The one table of mock scenarios (snippets/scenarios.py), and what the tests expect of its
rows (tests/scenarios.py): every name the tests give belongs to a row."""

from __future__ import annotations

import pytest

from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.scenarios import HEALTHY, MOCK_SCENARIOS

from .client.test_fault_matrix import DIAGNOSED_FAULTS
from .scenarios import OUTCOMES, OUTSIDE_CONTRACT, SHOWN_REQUESTS, scenario_of_block

NAMED_IN_TESTS = {
    "OUTCOMES (tests/scenarios.py)": set(OUTCOMES),
    "SHOWN_REQUESTS (tests/scenarios.py)": set(SHOWN_REQUESTS),
    "OUTSIDE_CONTRACT (tests/scenarios.py)": set(OUTSIDE_CONTRACT),
    "DIAGNOSED_FAULTS (tests/client/test_fault_matrix.py)": set(DIAGNOSED_FAULTS),
}


@pytest.mark.parametrize("table", NAMED_IN_TESTS)
def test_the_tests_name_rows_of_the_one_table(table: str) -> None:
    unknown = sorted(NAMED_IN_TESTS[table] - set(MOCK_SCENARIOS))
    assert not unknown, f"{table} names no row of MOCK_SCENARIOS (snippets/scenarios.py): {unknown}"


def test_healthy_is_the_first_row_and_changes_nothing() -> None:
    assert next(iter(MOCK_SCENARIOS)) == HEALTHY
    untouched = MockPromptOpsAPI(clock=FakeClock())
    api = MockPromptOpsAPI(clock=FakeClock())
    MOCK_SCENARIOS[HEALTHY].api(api)
    assert repr(api) == repr(untouched)
    assert (api.api_key, api.extra_keys, api.latency, api.skew) == (
        untouched.api_key,
        untouched.extra_keys,
        untouched.latency,
        untouched.skew,
    )
    assert not MOCK_SCENARIOS[HEALTHY].breaks_the_network


@pytest.mark.parametrize("name", MOCK_SCENARIOS)
def test_every_row_says_what_goes_wrong_in_one_line(name: str) -> None:
    summary = MOCK_SCENARIOS[name].summary
    assert summary and summary == " ".join(summary.split()) and summary[0].islower(), summary


def test_a_block_naming_no_row_fails_naming_the_block_and_the_row() -> None:
    with pytest.raises(AssertionError, match=r"docs/x\.md:3: unknown mock scenario 'no-such'"):
        scenario_of_block("no-such", "docs/x.md:3")


def test_a_block_cannot_name_a_row_only_the_simulated_network_plays() -> None:
    """A docs block meets the mock over HTTP: DNS and TLS failures are `--mock`'s alone."""
    for name in ("dns-failure", "tls-failure"):
        assert MOCK_SCENARIOS[name].breaks_the_network
        with pytest.raises(AssertionError, match=f"mock='{name}' breaks DNS or TLS"):
            scenario_of_block(name, "docs/x.md:3")
