"""The command line every diagnostic script shares: `--mock` runs it against the bundled mock API.

A script's own code talks only to the client; what `--mock` needs (the mock API, and for some
scripts fake time, a local TLS server or a scenario) is in `snippets.offline`, loaded only for
`--mock`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from snippets.client import ConfigurationError, PromptOpsError

ScriptMain = Callable[[], Coroutine[Any, Any, int]]

HEALTHY = "healthy"
"""The scenario `--mock` reproduces when it names none: everything works."""


def run_script(name: str, main: ScriptMain, description: str | None, argv: list[str] | None) -> int:
    """Parse the command line, then run `main()` against the API (or, with `--mock`, offline).

    `name` is the script's name (`health-check`), `description` its module docstring; returns
    the exit code: `main`'s own, or 2 when an error stopped it (shown on one line: a missing
    key, an unreachable API), or 130 when interrupted.
    """
    parser = script_parser(name, description)
    args = parser.parse_args(argv)

    def run() -> int:
        if args.mock:
            from snippets.offline import run_offline  # only --mock needs the mock

            return run_offline(name, main)
        return asyncio.run(main())

    return run_guarded(parser.prog, run)


def script_parser(
    name: str, description: str | None, *, scenarios: bool = False
) -> argparse.ArgumentParser:
    """The command line of the script `name`, with `--mock`: a flag, or with `scenarios`, an
    optional scenario name (`--mock wrong-key`; `--mock` alone is `healthy`)."""
    parser = argparse.ArgumentParser(
        prog=f"promptops-{name}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    offline = "run against the mock API bundled with this package: no account, no network"
    if scenarios:
        parser.add_argument(
            "--mock",
            nargs="?",
            const=HEALTHY,
            type=_mock_scenario,
            metavar="SCENARIO",
            help=f"{offline}; SCENARIO is what goes wrong there (default: {HEALTHY}; an "
            "unknown name lists them all)",
        )
    else:
        parser.add_argument("--mock", action="store_true", help=offline)
    return parser


def _mock_scenario(name: str) -> str:
    """`name`, if `--mock` can reproduce it (the table is in `snippets.offline`, loaded only
    when `--mock` is given)."""
    from snippets.offline import MOCK_SCENARIOS

    if name not in MOCK_SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {name!r}: choose from {', '.join(MOCK_SCENARIOS)}"
        )
    return name


def run_guarded(prog: str, run: Callable[[], int]) -> int:
    """`run()`'s exit code; 2 when a client error stopped it, shown on one line as
    `prog: message` (not a traceback); 130 when interrupted (Ctrl-C)."""
    try:
        return run()
    except (PromptOpsError, ConfigurationError) as exc:  # one line, not a traceback
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
