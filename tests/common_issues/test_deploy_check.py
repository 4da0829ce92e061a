"""The post-deploy check (snippets/common_issues/deploy_check.py), against the mock API."""

from __future__ import annotations

import asyncio

import pytest

from snippets.client.clock import FakeClock
from snippets.common_issues.deploy_check import (
    Check,
    check_deployment,
    key_fingerprint,
    print_report,
)
from snippets.mock_api import MockPromptOpsAPI


def run(prompt_ids: list[str], environ: dict[str, str], **kwargs: str) -> list[Check]:
    """The check on a fake clock: it starts where the mock's does, so signatures agree."""
    check = check_deployment(prompt_ids, environ=environ, clock=FakeClock(), **kwargs)
    return asyncio.run(check)


def test_a_healthy_deployment_passes_every_check(mock_api: MockPromptOpsAPI) -> None:
    checks = run(["hello-world", "welcome-message"], {"PROMPTOPS_API_KEY": mock_api.api_key})
    assert [(c.status, c.name) for c in checks] == [
        ("OK", "key"),
        ("OK", "base URL"),
        ("OK", "API"),
        ("OK", "prompts"),
    ]
    assert checks[1].detail == "https://api.promptops.com"
    assert checks[3].detail == "all 2 found"


def test_a_prompt_the_key_cannot_see_is_named(mock_api: MockPromptOpsAPI) -> None:
    checks = run(["hello-world", "onboarding-email"], {"PROMPTOPS_API_KEY": mock_api.api_key})
    assert checks[-1] == Check(
        "FAIL",
        "prompts",
        "not visible to this key: onboarding-email (it sees 3: hello-world, "
        "welcome-message, customer-service)",
    )


def test_every_prompt_the_key_cannot_see_is_named(mock_api: MockPromptOpsAPI) -> None:
    checks = run(["a-1", "hello-world", "b-2"], {"PROMPTOPS_API_KEY": mock_api.api_key})
    assert checks[-1].detail.startswith("not visible to this key: a-1, b-2 (it sees 3: ")


def test_a_key_of_another_environment_fails_at_the_api(mock_api: MockPromptOpsAPI) -> None:
    checks = run(["hello-world"], {"PROMPTOPS_API_KEY": "po_live_staging_key"})
    assert checks[-1] == Check(
        "FAIL",
        "API",
        "AUTHENTICATION_ERROR: Invalid API key or signature: revoked, or a key of another "
        "workspace",
    )
    assert len(mock_api.requests) == 1  # a 401 is not retried


def test_the_key_is_shown_only_as_a_fingerprint(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = run(["hello-world"], {"PROMPTOPS_API_KEY": f"  {mock_api.api_key}\n"})
    print_report(checks)
    out = capsys.readouterr().out
    assert key_fingerprint(mock_api.api_key) in out and mock_api.api_key not in out


def test_a_different_key_than_meant_stops_before_any_request(
    mock_api: MockPromptOpsAPI,
) -> None:
    checks = run(
        ["hello-world"],
        {"PROMPTOPS_API_KEY": mock_api.api_key},
        expected_fingerprint=key_fingerprint("po_live_the_right_one"),
    )
    meant = key_fingerprint("po_live_the_right_one")
    found = key_fingerprint(mock_api.api_key)
    assert checks == [Check("FAIL", "key", f"{found}, not the {meant} you meant")]
    assert mock_api.requests == []


def test_a_missing_key_or_a_bad_base_url_fails_without_a_request(
    mock_api: MockPromptOpsAPI,
) -> None:
    assert run(["x"], {}) == [Check("FAIL", "key", "PROMPTOPS_API_KEY is not set here")]
    checks = run(["x"], {"PROMPTOPS_API_KEY": "k", "PROMPTOPS_BASE_URL": "api.promptops.com"})
    assert checks[-1] == Check(
        "FAIL",
        "base URL",
        "base_url must be an http(s) URL such as 'https://api.promptops.com', got "
        "'api.promptops.com'",
    )
    assert mock_api.requests == []


def test_the_report_exits_1_on_any_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert print_report([Check("OK", "key", "set")]) == 0
    assert print_report([Check("OK", "key", "set"), Check("FAIL", "API", "down")]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "FAIL  API       down"


def test_an_outage_that_outlasts_the_retries_fails_at_the_api_with_the_error(
    mock_api: MockPromptOpsAPI,
) -> None:
    mock_api.server_error(times=3, status=503)
    checks = run(["hello-world"], {"PROMPTOPS_API_KEY": mock_api.api_key})
    assert checks[-1] == Check("FAIL", "API", "SERVER_ERROR: The server is temporarily unavailable")


def test_the_environment_passed_in_is_the_one_checked(
    mock_api: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base URL in this process's environment does not leak into the check of another."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://staging.example.com")
    checks = run(["hello-world"], {"PROMPTOPS_API_KEY": mock_api.api_key})
    assert checks[1] == Check("OK", "base URL", "https://api.promptops.com")
