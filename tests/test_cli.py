"""The command line every script shares (snippets/cli.py), and what `--mock` does
(snippets/offline.py)."""

from __future__ import annotations

import asyncio
import os

import pytest

from snippets.cli import run_script
from snippets.client import PromptOpsClient
from snippets.mock_api import MOCK_API_KEY
from snippets.offline import simulated_resolver


async def _key_and_health() -> int:
    print(os.environ.get("PROMPTOPS_API_KEY") == MOCK_API_KEY)
    async with PromptOpsClient() as client:
        print((await client.health_check()).status)
    return 7


def test_mock_runs_offline_with_the_mock_key_and_returns_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert run_script("test", _key_and_health, "A test script.", ["--mock"]) == 7
    assert capsys.readouterr().out == "True\nhealthy\n"
    assert "PROMPTOPS_API_KEY" not in os.environ  # put back as it was


def test_mock_answers_where_promptops_base_url_points(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader with PROMPTOPS_BASE_URL set still runs offline: nothing reaches that URL."""
    monkeypatch.setenv("PROMPTOPS_BASE_URL", "https://staging.promptops.example")
    assert run_script("test", _key_and_health, None, ["--mock"]) == 7
    assert capsys.readouterr().out == "True\nhealthy\n"


def test_help_shows_the_script_name_and_its_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_script("health-check", _key_and_health, "Checks things.\n\n    usage line", ["-h"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: promptops-health-check [-h] [--mock [SCENARIO]]")
    assert "Checks things.\n\n    usage line" in help_text  # the docstring's layout is kept


def test_unknown_arguments_are_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_script("health-check", _key_and_health, None, ["--mokc"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --mokc" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        ("::1", ["::1"]),
        ("api.promptops.com", ["203.0.113.10"]),
        ("staging.promptops.example", ["203.0.113.10"]),
    ],
)
def test_simulated_dns_answers_every_name_with_a_documentation_address(
    host: str, addresses: list[str]
) -> None:
    assert asyncio.run(simulated_resolver(host)) == addresses


def test_simulated_dns_has_no_invalid_names() -> None:
    with pytest.raises(OSError, match="Name or service not known"):
        asyncio.run(simulated_resolver("api.promptops.invalid"))


async def _needs_a_key() -> int:
    async with PromptOpsClient() as client:
        await client.health_check()
    return 0


def test_an_error_that_stops_a_script_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing key, an unreachable API: a line a reader can act on, not a traceback."""
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert run_script("profiler", _needs_a_key, None, []) == 2
    assert capsys.readouterr().err == (
        "promptops-profiler: No API key: pass api_key=... or set the PROMPTOPS_API_KEY "
        "environment variable\n"
    )
