"""Clock skew from the Date header (snippets/authentication/clock_skew.py)."""

from __future__ import annotations

import asyncio

import pytest

from snippets.authentication import clock_skew
from snippets.authentication.clock_skew import explain_skew, measure_clock_skew
from snippets.mock_api import MockPromptOpsAPI


@pytest.mark.parametrize("server_ahead", [0, 42, -420, 3600])
def test_measures_the_offset_the_server_has(mock_api: MockPromptOpsAPI, server_ahead: int) -> None:
    mock_api.clock_skew(server_ahead)
    assert asyncio.run(measure_clock_skew(clock=mock_api.clock)) == pytest.approx(
        -server_ahead, abs=1
    )


def test_works_with_a_wrong_key(
    mock_api: MockPromptOpsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_wrong")
    mock_api.clock_skew(-420)
    assert asyncio.run(measure_clock_skew(clock=mock_api.clock)) == 420


@pytest.mark.parametrize(
    ("offset", "start"),
    [(0, "OK"), (-3, "OK"), (30, "WARN"), (-300, "WARN"), (301, "ERROR"), (-420, "ERROR")],
)
def test_verdicts(offset: float, start: str) -> None:
    assert explain_skew(offset).startswith(start)


def test_direction_is_worded_from_this_machine() -> None:
    assert "420 s ahead of the server" in explain_skew(420)
    assert "420 s behind the server" in explain_skew(-420)


def test_command_line_mock_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMPTOPS_API_KEY", raising=False)
    assert clock_skew.main(["--mock"]) == 0
    assert capsys.readouterr().out == "OK: clock within 0 s of the server\n"
