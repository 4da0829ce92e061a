"""Key checks during a rotation (snippets/authentication/check_keys.py)."""

from __future__ import annotations

import asyncio

import pytest

from snippets.authentication.check_keys import check_keys
from snippets.mock_api import MockPromptOpsAPI

NEXT_KEY = "po_live_next_9d3b1f"


def test_rotation_steps(mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]) -> None:
    current = mock_api.api_key
    keys = {"current": current, "next": NEXT_KEY}
    assert asyncio.run(check_keys(keys, clock=mock_api.clock)) == {
        "current": "accepted",
        "next": "AUTHENTICATION_ERROR",
    }
    mock_api.add_key(NEXT_KEY)  # 1. create the new key: both work
    assert asyncio.run(check_keys(keys, clock=mock_api.clock)) == {
        "current": "accepted",
        "next": "accepted",
    }
    mock_api.revoke_key(current)  # 3. after deploying the new key, revoke the old one
    assert asyncio.run(check_keys(keys, clock=mock_api.clock)) == {
        "current": "AUTHENTICATION_ERROR",
        "next": "accepted",
    }
    output = capsys.readouterr().out
    assert current not in output and NEXT_KEY not in output
    assert "next: accepted" in output


def test_a_failing_check_makes_exactly_one_request(mock_api: MockPromptOpsAPI) -> None:
    asyncio.run(check_keys({"bad": "po_bad"}, clock=mock_api.clock))
    assert len(mock_api.requests) == 1


def test_a_passing_outage_is_reported_not_retried(mock_api: MockPromptOpsAPI) -> None:
    """The check answers what the API says of the key now: a 503 is not waited out."""
    mock_api.server_error(times=1, status=503)
    results = asyncio.run(check_keys({"current": mock_api.api_key}, clock=mock_api.clock))
    assert results == {"current": "SERVER_ERROR"}
    assert len(mock_api.requests) == 1
