"""Run a diagnostic script against the mock API: the `--mock` flag of every script."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from snippets.client._client import API_KEY_ENV
from snippets.client.clock import FakeClock, default_clock, use_clock
from snippets.mock_api.server import MockPromptOpsAPI


@contextmanager
def offline(api: MockPromptOpsAPI | None = None) -> Iterator[MockPromptOpsAPI]:
    """Answer api.promptops.com from the mock, with its key in `PROMPTOPS_API_KEY`, for a block."""
    api = api or MockPromptOpsAPI()
    saved = os.environ.get(API_KEY_ENV)
    os.environ[API_KEY_ENV] = api.api_key
    try:
        with api:
            yield api
    finally:
        if saved is None:
            del os.environ[API_KEY_ENV]
        else:
            os.environ[API_KEY_ENV] = saved


def run_script(
    description: str | None,
    main: Callable[[], Coroutine[Any, Any, int]],
    argv: list[str] | None = None,
    *,
    setup: Callable[[MockPromptOpsAPI], None] | None = None,
    fake_time: bool = False,
    mock_main: Callable[[], Coroutine[Any, Any, int]] | None = None,
) -> int:
    """Parse `--mock`, then run `main()` against the real API, or the mock (after `setup`).

    With `fake_time`, the mock run uses a `FakeClock`: simulated latency takes no real time and
    the durations printed are exactly the ones the docs page shows. `mock_main`, if given,
    replaces `main` in the mock run (for scripts that also need fake DNS or a local server).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--mock", action="store_true", help="run against the bundled mock API (no account needed)"
    )
    args = parser.parse_args(argv)
    if not args.mock:
        return asyncio.run(main())
    clock = FakeClock() if fake_time else default_clock()
    previous = use_clock(clock)
    try:
        with offline(MockPromptOpsAPI(clock=clock)) as api:
            if setup is not None:
                setup(api)
            return asyncio.run((mock_main or main)())
    finally:
        use_clock(previous)
