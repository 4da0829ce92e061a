"""The JSON Lines request logger (snippets/debugging/request_logger.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from snippets.client import PromptOpsClient
from snippets.debugging.request_logger import RequestLogger
from snippets.mock_api import MockPromptOpsAPI


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_requests_and_responses_are_logged_redacted(
    mock_api: MockPromptOpsAPI, tmp_path: Path
) -> None:
    log = RequestLogger(tmp_path / "requests.jsonl")

    async def main() -> None:
        async with PromptOpsClient(event_hooks=log.event_hooks()) as client:
            await client.render_prompt("hello-world", {"name": "Ada"})

    asyncio.run(main())
    request, response = entries(tmp_path / "requests.jsonl")
    assert request["type"] == "request" and response["type"] == "response"
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


def test_nested_values_and_errors_are_redacted(tmp_path: Path) -> None:
    log = RequestLogger(tmp_path / "log.jsonl", secrets=["custom-secret-value"])
    log.log_error({"error": "failed: custom-secret-value", "context": {"api_key": "x", "n": [1]}})
    (entry,) = entries(tmp_path / "log.jsonl")
    assert entry["type"] == "error"
    assert entry["data"] == {"error": "failed: ***", "context": {"api_key": "***", "n": [1]}}


def test_concurrent_requests_give_one_whole_line_each(
    mock_api: MockPromptOpsAPI, tmp_path: Path
) -> None:
    log = RequestLogger(tmp_path / "requests.jsonl")

    async def main() -> None:
        async with PromptOpsClient(event_hooks=log.event_hooks()) as client:
            await asyncio.gather(
                *(client.render_prompt("hello-world", {"name": f"u{i}"}) for i in range(200))
            )

    asyncio.run(main())
    logged = entries(tmp_path / "requests.jsonl")  # json.loads fails on an interleaved line
    assert len(logged) == 400
    assert sum(e["type"] == "request" for e in logged) == 200


def test_concurrent_threads_never_interleave(tmp_path: Path) -> None:
    log = RequestLogger(tmp_path / "threads.jsonl")
    big = "x" * 20_000  # longer than one buffered write

    def write(n: int) -> None:
        for i in range(50):
            log.log_response({"thread": n, "i": i, "payload": big})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logged = entries(tmp_path / "threads.jsonl")
    assert len(logged) == 400
    assert {(e["data"]["thread"], e["data"]["i"]) for e in logged} == {
        (n, i) for n in range(8) for i in range(50)
    }
