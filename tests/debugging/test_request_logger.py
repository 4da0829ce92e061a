"""The JSON Lines request logger (snippets/debugging/request_logger.py)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from snippets.client import PromptOpsClient
from snippets.client.clock import FakeClock
from snippets.debugging.request_logger import RequestLogger
from snippets.mock_api import MockPromptOpsAPI


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_requests_and_responses_are_logged_redacted(
    mock_api: MockPromptOpsAPI, tmp_path: Path
) -> None:
    log = RequestLogger(tmp_path / "requests.jsonl")

    async def main() -> None:
        async with PromptOpsClient(event_hooks=log.event_hooks(), clock=mock_api.clock) as client:
            await client.render_prompt("hello-world", {"name": "Ada"})

    asyncio.run(main())
    request, response = entries(tmp_path / "requests.jsonl")
    assert request["type"] == "request" and response["type"] == "response"
    assert request["data"]["method"] == "POST"
    assert (
        request["data"]["url"] == "https://api.promptops.com/v1/client/prompts/hello-world/render"
    )
    assert request["data"]["headers"]["authorization"] == "***"
    assert request["data"]["headers"]["x-promptops-signature"] == "***"
    assert response["data"] == {
        "method": "POST",
        "url": "https://api.promptops.com/v1/client/prompts/hello-world/render",
        "status": 200,
        "request_id": "req_000001",
    }
    for entry in (request, response):
        assert datetime.fromisoformat(entry["timestamp"]).utcoffset() is not None
    assert mock_api.api_key not in (tmp_path / "requests.jsonl").read_text()


def test_nested_values_and_known_secrets_are_redacted(tmp_path: Path) -> None:
    log = RequestLogger(tmp_path / "log.jsonl", secrets=["custom-secret-value"])
    log.log_request({"url": "/x?n=custom-secret-value", "context": {"api_key": "x", "n": [1]}})
    (entry,) = entries(tmp_path / "log.jsonl")
    assert entry["type"] == "request"
    assert entry["data"] == {"url": "/x?n=***", "context": {"api_key": "***", "n": [1]}}


def test_the_key_in_promptops_api_key_is_redacted_without_being_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "po_live_from_the_environment_71c")
    log = RequestLogger(tmp_path / "log.jsonl")
    log.log_request({"note": "sent po_live_from_the_environment_71c"})
    (entry,) = entries(tmp_path / "log.jsonl")
    assert entry["data"] == {"note": "sent ***"}


def test_text_stays_readable_and_other_values_are_logged_as_text(tmp_path: Path) -> None:
    log = RequestLogger(tmp_path / "log.jsonl")
    log.log_request({"name": "Zoë", "when": datetime(2026, 1, 1, tzinfo=UTC)})
    assert '"name": "Zoë"' in (tmp_path / "log.jsonl").read_text(encoding="utf-8")
    (entry,) = entries(tmp_path / "log.jsonl")
    assert entry["data"]["when"] == "2026-01-01 00:00:00+00:00"


def test_concurrent_requests_give_one_whole_line_each(
    mock_api: MockPromptOpsAPI, tmp_path: Path
) -> None:
    log = RequestLogger(tmp_path / "requests.jsonl")

    async def main() -> None:
        async with PromptOpsClient(event_hooks=log.event_hooks(), clock=mock_api.clock) as client:
            await asyncio.gather(
                *(client.render_prompt("hello-world", {"name": f"u{i}"}) for i in range(50))
            )

    asyncio.run(main())
    logged = entries(tmp_path / "requests.jsonl")  # json.loads fails on an interleaved line
    assert len(logged) == 100
    assert sum(e["type"] == "request" for e in logged) == 50


def test_concurrent_threads_never_interleave(tmp_path: Path) -> None:
    log = RequestLogger(tmp_path / "threads.jsonl")
    big = "x" * 20_000  # longer than one buffered write

    def write(n: int) -> None:
        for i in range(20):
            log.log_response({"thread": n, "i": i, "payload": big})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logged = entries(tmp_path / "threads.jsonl")
    assert len(logged) == 160
    assert {(e["data"]["thread"], e["data"]["i"]) for e in logged} == {
        (n, i) for n in range(8) for i in range(20)
    }


def test_the_log_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    RequestLogger(tmp_path / "requests.jsonl")
    assert stat.S_IMODE((tmp_path / "requests.jsonl").stat().st_mode) == 0o600


def test_an_existing_log_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text("")
    path.chmod(0o644)
    RequestLogger(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symbolic_link_is_refused_when_the_logger_is_made(tmp_path: Path) -> None:
    """A planted link could point the log (URLs, request ids) at any file we can write."""
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    (tmp_path / "requests.jsonl").symlink_to(target)
    with pytest.raises(ValueError, match="is a symbolic link .*: refusing to log to it"):
        RequestLogger(tmp_path / "requests.jsonl")
    assert target.read_text() == "precious\n"


def test_a_link_planted_after_the_logger_is_made_is_not_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, target = tmp_path / "requests.jsonl", tmp_path / "elsewhere"
    log = RequestLogger(path)
    target.write_text("precious\n")
    path.unlink()
    path.symlink_to(target)
    log.log_request({"method": "GET"})
    assert target.read_text() == "precious\n"
    assert [r.getMessage() for r in caplog.records] == [
        f"request log {path} not written: is a symbolic link (which could point anywhere)"
    ]


def test_a_log_removed_by_rotation_is_made_again_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "requests.jsonl"
    log = RequestLogger(path)
    path.unlink()
    log.log_request({"method": "GET"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [e["data"] for e in entries(path)] == [{"method": "GET"}]


def test_a_bad_path_fails_when_the_logger_is_made_not_at_the_first_request(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError):
        RequestLogger(tmp_path / "no-such-directory" / "requests.jsonl")


def test_a_write_error_is_logged_and_the_api_call_still_succeeds(
    mock_api: MockPromptOpsAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "requests.jsonl"
    log = RequestLogger(path)
    path.unlink()
    path.mkdir()  # every later write fails (as a full disk would)

    async def main() -> str:
        async with PromptOpsClient(event_hooks=log.event_hooks(), clock=mock_api.clock) as client:
            return (await client.health_check()).status

    assert asyncio.run(main()) == "healthy"
    assert [r.getMessage() for r in caplog.records if r.name == "promptops.request_logger"] == [
        f"request log {path} not written: is a folder"
    ] * 2


def test_timestamps_come_from_the_clock_in_utc(tmp_path: Path) -> None:
    clock = FakeClock()  # 2026-01-01T00:00:00Z
    log = RequestLogger(tmp_path / "log.jsonl", clock=clock)
    log.log_request({})
    clock.advance(1.5)
    log.log_response({})
    assert [e["timestamp"] for e in entries(tmp_path / "log.jsonl")] == [
        "2026-01-01T00:00:00.000+00:00",
        "2026-01-01T00:00:01.500+00:00",
    ]


def test_a_fifo_is_refused_at_once_not_opened_blocking(tmp_path: Path) -> None:
    """A FIFO with no reader once blocked the constructor forever."""
    fifo = tmp_path / "requests.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(ValueError) as caught:
        RequestLogger(fifo)
    assert str(caught.value) == f"{fifo} is a FIFO with no reader: refusing to log to it"


def test_a_device_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        RequestLogger("/dev/null")
    assert str(caught.value) == (
        "/dev/null is not a regular file (a FIFO, a device): refusing to log to it"
    )
