"""The health check snippet (snippets/index/health_check.py), end to end against the mock API."""

from __future__ import annotations

import asyncio

import pytest

from snippets.client import PromptOpsClient
from snippets.index import health_check
from snippets.index.health_check import run_health_checks
from snippets.mock_api import MockPromptOpsAPI

CHECKS = [
    "Initialization",
    "API connectivity",
    "Prompt retrieval",
    "Caching",
    "Variable substitution",
]


def results(output: str) -> dict[str, str]:
    """{check name: PASS or FAIL} from the printed report."""
    found = {}
    for line in output.splitlines():
        verdict, _, rest = line.partition("  ")
        if verdict in ("PASS", "FAIL"):
            found[rest[:22].strip()] = verdict
    return found


def test_all_checks_pass_against_the_mock(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    assert asyncio.run(run_health_checks(lambda: PromptOpsClient(clock=mock_api.clock))) == 0
    output = capsys.readouterr().out
    assert results(output) == dict.fromkeys(CHECKS, "PASS")
    assert output.rstrip().endswith("All checks passed")


def test_wrong_key_prints_fail_lines_and_exits_1(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    code = asyncio.run(
        run_health_checks(lambda: PromptOpsClient("po_wrong_key", clock=mock_api.clock))
    )
    output = capsys.readouterr().out
    assert code == 1
    assert results(output) == {"Initialization": "PASS"} | dict.fromkeys(CHECKS[1:], "FAIL")
    assert "AUTHENTICATION_ERROR" in output
    assert "po_wrong_key" not in output


def test_missing_key_fails_initialization_and_names_the_variable(
    mock_api: MockPromptOpsAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY")
    assert asyncio.run(run_health_checks(lambda: PromptOpsClient(clock=mock_api.clock))) == 1
    output = capsys.readouterr().out
    assert results(output) == {"Initialization": "FAIL"}
    assert "PROMPTOPS_API_KEY" in output
    assert mock_api.requests == []


def test_one_failing_check_does_not_stop_the_others(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    mock_api.prompts.pop("hello-world")  # retrieval, caching and rendering now fail with 404
    assert asyncio.run(run_health_checks(lambda: PromptOpsClient(clock=mock_api.clock))) == 1
    found = results(capsys.readouterr().out)
    assert found == {
        "Initialization": "PASS",
        "API connectivity": "PASS",
        "Prompt retrieval": "FAIL",
        "Caching": "FAIL",
        "Variable substitution": "FAIL",
    }


def test_caching_check_fails_when_the_cache_is_off(
    mock_api: MockPromptOpsAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        asyncio.run(run_health_checks(lambda: PromptOpsClient(cache_ttl=0, clock=mock_api.clock)))
        == 1
    )
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "Caching" in line]
    assert line.split(maxsplit=2) == [
        "FAIL",
        "Caching",
        "second fetch was not served from the cache",
    ]


def test_command_line_mock_flag_runs_offline(
    clock: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m snippets.index.health_check --mock` needs no key and no network."""
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert health_check.main(["--mock"]) == 0
    assert results(capsys.readouterr().out) == dict.fromkeys(CHECKS, "PASS")


def test_command_line_without_mock_uses_the_environment(
    mock_api: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_wrong_key")
    assert health_check.main([]) == 1


def test_credentials_in_the_base_url_are_refused_and_not_printed(
    mock_api: MockPromptOpsAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://alice:po_live_in_url@api.promptops.com")
    assert asyncio.run(run_health_checks(lambda: PromptOpsClient(clock=mock_api.clock))) == 1
    output = capsys.readouterr().out
    assert "po_live_in_url" not in output and "alice" not in output
    assert output.splitlines()[1] == (
        "FAIL  Initialization         PROMPTOPS_BASE_URL must not contain a user or password "
        "('https://***@api.promptops.com'): the client signs in with the API key"
    )
