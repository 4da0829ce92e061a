"""The `promptops-doctor` command: `--mock [SCENARIO]`, `--json`, `--deadline SECONDS`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from snippets.cli import run_guarded, script_parser
from snippets.client.clock import SYSTEM_CLOCK, Clock

from .checks import DEADLINE, SITE, Network, run_doctor
from .report import Report

SCHEMA_URL = f"{SITE}reference/doctor.schema.json"
"""Where the JSON report's schema is published (docs/reference/doctor.schema.json)."""


def main(argv: list[str] | None = None) -> int:
    """Run the doctor and print its report; the exit code is the report's (0, 1 or 2), or 2
    with a one-line error, or 130 when interrupted."""
    import snippets.doctor  # its docstring is the help text

    parser = script_parser("doctor", snippets.doctor.__doc__, scenarios=True)
    parser.epilog = f"The JSON schema of --json: {SCHEMA_URL}"  # whole: a URL must not wrap
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON, for CI (its schema: below)",
    )
    parser.add_argument(
        "--deadline",
        type=_seconds,
        default=DEADLINE,
        metavar="SECONDS",
        help=f"time for the whole run (default: {DEADLINE:g})",
    )
    args = parser.parse_args(argv)

    async def doctor(environ: Mapping[str, str], clock: Clock, network: Network) -> int:
        progress = Progress(sys.stderr)
        try:
            report = await run_doctor(
                environ=environ,
                clock=clock,
                network=network,
                deadline=args.deadline,
                on_progress=progress,
            )
        finally:
            progress.done()
        show(report, as_json=args.json, stream=sys.stdout)
        return report.exit_code

    def run() -> int:
        if args.mock:
            from snippets.offline import run_doctor_offline  # only --mock needs the mock

            return run_doctor_offline(args.mock, doctor)
        return asyncio.run(doctor(os.environ, SYSTEM_CLOCK, Network()))

    return run_guarded(parser.prog, run)


def show(report: Report, *, as_json: bool, stream: TextIO) -> None:
    """Print the report: JSON, or text with coloured marks on a terminal that allows it."""
    if as_json:
        lines = json.dumps(report.as_json(), indent=2).splitlines()
    else:
        lines = report.text(colour=wants_colour(stream, os.environ))
    for line in lines:
        print(line, file=stream)


def wants_colour(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and not when NO_COLOR is set (no-color.org) or TERM=dumb."""
    return stream.isatty() and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


class Progress:
    """Which check is running, on one line of stderr rewritten in place: only on a terminal,
    so that stdout holds the report alone and a CI log gets no fragments."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = stream.isatty()

    def __call__(self, number: int, total: int, title: str) -> None:
        if self.shown:
            self.stream.write(f"\r\x1b[Kchecking {number}/{total}: {title}")
            self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return seconds
