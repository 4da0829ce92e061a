"""The command line every diagnostic script shares: `--mock` runs it against the bundled mock API.

A script's own code talks only to the client; what `--mock` needs (the mock API, and for some
scripts fake time or a local TLS server) is in `snippets.offline`, loaded only for `--mock`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from snippets.client import ConfigurationError, PromptOpsError

ScriptMain = Callable[[], Coroutine[Any, Any, int]]


def run_script(name: str, main: ScriptMain, description: str | None, argv: list[str] | None) -> int:
    """Parse the command line, then run `main()` against the API (or, with `--mock`, offline).

    `name` is the script's name (`health-check`), `description` its module docstring; returns
    the exit code: `main`'s own, or 2 when an error stopped it (shown on one line: a missing
    key, an unreachable API), or 130 when interrupted.
    """
    parser = argparse.ArgumentParser(
        prog=f"promptops-{name}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--mock",
        action="store_true",
        help="run against the mock API bundled with this package: no account, no network",
    )
    args = parser.parse_args(argv)
    try:
        if args.mock:
            from snippets.offline import run_offline  # only --mock needs the mock

            return run_offline(name, main)
        return asyncio.run(main())
    except (PromptOpsError, ConfigurationError) as exc:  # one line, not a traceback
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
