"""Debug logging with redaction (snippets/debugging/debug_logging.py)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from pathlib import Path

import pytest

from snippets.client import PromptOpsClient
from snippets.debugging.debug_logging import setup_debug_logging
from snippets.mock_api import MockPromptOpsAPI


def test_client_and_httpx_lines_are_logged_without_the_key(
    mock_api: MockPromptOpsAPI, tmp_path: Path
) -> None:
    mock_api.rate_limit(times=1, retry_after=2)
    stream = io.StringIO()
    setup_debug_logging(stream=stream, log_file=str(tmp_path / "debug.log"))

    async def main() -> None:
        async with PromptOpsClient(clock=mock_api.clock) as client:
            await client.get_prompt("hello-world")

    asyncio.run(main())
    output = stream.getvalue()
    assert "promptops: GET /v1/client/prompts/hello-world failed with RATE_LIMIT_ERROR" in output
    assert re.search(r"retry 1 of 2 in 2\.[0-5] s", output)  # 2 s asked, up to 25 % more
    url = "https://api.promptops.com/v1/client/prompts/hello-world"
    assert f'httpx: HTTP Request: GET {url} "HTTP/1.1 200 OK"' in output
    assert mock_api.api_key not in output
    assert (tmp_path / "debug.log").read_text() == output


def test_calling_setup_twice_does_not_duplicate_lines(mock_api: MockPromptOpsAPI) -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_debug_logging(stream=first)
    setup_debug_logging(stream=second)
    logging.getLogger("promptops").info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_the_level_is_set_on_the_client_s_and_httpx_s_loggers() -> None:
    logger = setup_debug_logging("WARNING", stream=io.StringIO())
    assert logger is logging.getLogger("promptops")
    levels = {name: logging.getLogger(name).level for name in ("promptops", "httpx", "httpcore")}
    assert levels == dict.fromkeys(levels, logging.WARNING)


def test_the_key_in_promptops_api_key_is_redacted_whatever_its_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTOPS_API_KEY", "plain-words-as-a-key")
    stream = io.StringIO()
    setup_debug_logging(stream=stream)
    logging.getLogger("promptops").warning("sent plain-words-as-a-key")
    assert "plain-words-as-a-key" not in stream.getvalue()
    assert "sent ***" in stream.getvalue()


def test_the_debug_log_file_is_made_0600_and_never_through_a_link(tmp_path: Path) -> None:
    """The debug log holds URLs and request ids, as the request log does: one rule for both."""
    log_file = tmp_path / "debug.log"
    setup_debug_logging(stream=io.StringIO(), log_file=str(log_file))
    assert log_file.stat().st_mode & 0o777 == 0o600
    link = tmp_path / "link.log"
    link.symlink_to(tmp_path / "elsewhere.log")
    with pytest.raises(ValueError, match="is a symbolic link .*: refusing to log to it"):
        setup_debug_logging(stream=io.StringIO(), log_file=str(link))
    assert not (tmp_path / "elsewhere.log").exists()
