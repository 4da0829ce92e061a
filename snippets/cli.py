"""The command line every script of this guide shares.

    promptops-<tool> [--mock [SCENARIO]] [--json] [--deadline SECONDS] [--debug]

A check tool (`run_check_tool`) prints its report as its checks run, or as JSON with `--json`,
and exits with the report's code (`snippets.checks.EXIT_CODES`). Every script
(`run_script` for the others) behaves the same when things go wrong: an error the client
raises is one line, exit 2; Ctrl-C is one line, exit 130; a reader who closes stdout early
(`| head`) ends the script quietly; text the terminal cannot encode is shown escaped; any
other exception is one line naming the script and where to report it, exit 2 (`--debug`
shows the traceback). `--mock` runs against the mock API this package bundles
(`snippets.offline`), loaded only then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TextIO

from snippets.checks import (
    DEADLINE,
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    SITE,
    Check,
    CheckContext,
    Finding,
    Report,
    run_checks,
)
from snippets.client import ConfigurationError, PromptOpsError
from snippets.client.redaction import printable, scrub
from snippets.client.settings import secrets_in
from snippets.scenarios import HEALTHY, MOCK_SCENARIOS

ScriptMain = Callable[[], Coroutine[Any, Any, int]]

ISSUES: Final = "https://github.com/promptops/troubleshooting-guide/issues"
"""Where a reader reports a script that failed on its own."""
SCHEMA_URL: Final = f"{SITE}reference/report.schema.json"
"""Where the schema of every check tool's `--json` is published."""


@dataclass(frozen=True)
class Option:
    """A command-line option of one tool (`--prompt ID`), read by its checks from
    `ctx.options[dest]`."""

    flag: str
    help: str
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def run_check_tool(
    tool: str,
    checks: Sequence[Check],
    description: str | None,
    argv: list[str] | None,
    *,
    options: Sequence[Option] = (),
    max_retries: int | None = None,
) -> int:
    """Run a check tool's table from the command line and print its report.

    `tool` is the script's name without `promptops-` (`health-check`); `description` its
    module docstring; `options` its own; `max_retries` the client's, None for its default.
    """
    parser = script_parser(tool, description, check_tool=True)
    for option in options:
        parser.add_argument(option.flag, help=option.help, metavar=option.metavar)
    args = parser.parse_args(argv)
    own = {option.dest: getattr(args, option.dest) for option in options}

    def run(out: TextIO, err: TextIO) -> int:
        progress = Progress(err)

        def show(finding: Finding) -> None:
            if not args.json:
                progress.clear()
                for line in finding.lines(colour=wants_colour(out, os.environ)):
                    print(line, file=out)

        async def main(ctx: CheckContext) -> Report:
            if not args.json:
                header = Report(tool, ctx.shown_url, ctx.deadline, (), ctx.simulated).header()
                print(header, file=out)
            try:
                return await run_checks(tool, checks, ctx, on_progress=progress, on_finding=show)
            finally:
                progress.clear()

        def context(environ: Any, **more: Any) -> CheckContext:
            return CheckContext(
                environ, deadline=args.deadline, max_retries=max_retries, options=own, **more
            )

        if args.mock:
            from snippets.offline import simulation  # only --mock needs the mock

            with simulation(args.mock) as sim:
                ctx = context(
                    sim.environ, clock=sim.clock, network=sim.network, simulated=args.mock
                )
                report = sim.runner.run(main(ctx))
        else:
            report = asyncio.run(main(context(os.environ)))
        if args.json:
            shown = json.dumps(report.as_json(), indent=2, allow_nan=False)
            for line in shown.splitlines():  # a line at a time, as the text report
                print(line, file=out)
        else:
            print(report.summary(), file=out)
        return report.exit_code

    return run_guarded(parser.prog, run, debug=args.debug)


def run_script(tool: str, main: ScriptMain, description: str | None, argv: list[str] | None) -> int:
    """Run a script's `main()` (the API, or with `--mock` the mock API) and return its exit
    code, with every script's handling of errors, Ctrl-C and a closed stdout."""
    parser = script_parser(tool, description, check_tool=False)
    args = parser.parse_args(argv)

    def run(out: TextIO, err: TextIO) -> int:
        if args.mock:
            from snippets.offline import simulation  # only --mock needs the mock

            with simulation(args.mock) as sim:
                return sim.runner.run(main())
        return asyncio.run(main())

    return run_guarded(parser.prog, run, debug=args.debug)


def script_parser(
    name: str, description: str | None, *, check_tool: bool
) -> argparse.ArgumentParser:
    """The command line of the script `name`: `--mock [SCENARIO]` and `--debug`; for a check
    tool, `--json` and `--deadline` too."""
    parser = argparse.ArgumentParser(
        prog=f"promptops-{name}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--mock",
        nargs="?",
        const=HEALTHY,
        type=_mock_scenario,
        metavar="SCENARIO",
        help="run against the mock API bundled with this package (no account, no network); "
        f"SCENARIO is what goes wrong there (default: {HEALTHY}; an unknown name lists them)",
    )
    if check_tool:
        parser.add_argument(
            "--json",
            action="store_true",
            help="print the report as JSON, for CI and monitoring (its schema: below)",
        )
        parser.add_argument(
            "--deadline",
            type=_seconds,
            default=DEADLINE,
            metavar="SECONDS",
            help=f"time for the whole run (default: {DEADLINE:g})",
        )
        parser.epilog = f"The JSON schema of --json: {SCHEMA_URL}"  # whole: a URL must not wrap
    parser.add_argument(
        "--debug", action="store_true", help="on an unexpected error, show the traceback"
    )
    return parser


def _mock_scenario(name: str) -> str:
    """`name`, if `--mock` can reproduce it: a row of the one table of scenarios."""
    if name not in MOCK_SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {name!r}: choose from {', '.join(MOCK_SCENARIOS)}"
        )
    return name


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return seconds


def run_guarded(prog: str, run: Callable[[TextIO, TextIO], int], *, debug: bool = False) -> int:
    """`run(stdout, stderr)`'s exit code, never a traceback: a client error is one line and 2;
    Ctrl-C is one line and 130; any other exception one line naming `prog` and where to report
    it, and 2 (with `debug`, the traceback too, the key scrubbed). Output goes through streams
    that escape what the terminal cannot encode and end quietly when the reader closes them."""
    with _safe_output() as (out, err):
        secrets = secrets_in(os.environ)  # the key, the proxies' passwords
        try:
            return run(out, err)
        except (PromptOpsError, ConfigurationError) as exc:  # one line, not a traceback
            print(f"{prog}: {printable(scrub(str(exc), secrets), 1000)}", file=err)
            return EXIT_FAILURES
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=err)
            return EXIT_INTERRUPTED
        except Exception as exc:
            what = printable(scrub(f"{type(exc).__name__}: {exc}", secrets), 500)
            print(
                f"{prog}: unexpected error, {what}. This is a bug of {prog}: please report "
                f"it at {ISSUES}" + ("" if debug else " with the output of --debug"),
                file=err,
            )
            if debug:
                shown = scrub("".join(traceback.format_exception(exc)), secrets)
                print(shown, file=err, end="")
            return EXIT_FAILURES


class _SafeStream:
    """A text stream that escapes what its encoding cannot show (`\\xe9`) and, once the reader
    has closed it (`BrokenPipeError`), drops what follows. With no stream at all (a script
    started with `>&-` or `2>&-`: Python's is None), it drops everything."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self.closed_by_reader = stream is None

    def write(self, text: str) -> int:
        stream = self._stream
        if self.closed_by_reader or stream is None:
            return len(text)
        try:
            try:
                return stream.write(text)
            except UnicodeEncodeError:
                encoding = stream.encoding or "ascii"
                escaped = text.encode(encoding, "backslashreplace").decode(encoding)
                return stream.write(escaped)
        except BrokenPipeError:
            self.closed_by_reader = True
            return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader and self._stream is not None:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self.closed_by_reader = True

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _safe_output() -> Iterator[tuple[TextIO, TextIO]]:
    """`sys.stdout` and `sys.stderr` as `_SafeStream`s while the block runs (so the tools'
    own prints are safe too). A stdout the reader closed is pointed at /dev/null at the end,
    so that the interpreter's last flush does not fail either."""
    saved: tuple[TextIO | None, TextIO | None] = (sys.stdout, sys.stderr)  # None: not open
    out, err = _SafeStream(saved[0]), _SafeStream(saved[1])
    # A TextIO in all that it is used for: write, flush, isatty.
    shown: tuple[TextIO, TextIO] = (out, err)  # type: ignore[assignment]
    sys.stdout, sys.stderr = shown
    try:
        yield shown
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = saved  # None again, if it was
        for stream, safe in ((saved[0], out), (saved[1], err)):
            if safe.closed_by_reader and stream is not None:
                try:
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, stream.fileno())
                    os.close(devnull)
                except (OSError, ValueError):  # no file descriptor (a test's capture)
                    pass


def wants_colour(stream: TextIO, environ: Any) -> bool:
    """Colour only on a terminal, and not when NO_COLOR is set (no-color.org) or TERM=dumb."""
    return stream.isatty() and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


class Progress:
    """Which check is running, on one line of stderr rewritten in place: only on a terminal,
    so that stdout holds the report alone and a CI log gets no fragments."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = stream.isatty()
        self._written = False

    def __call__(self, number: int, total: int, title: str) -> None:
        if self.shown:
            self.stream.write(f"\r\x1b[Kchecking {number}/{total}: {title}")
            self.stream.flush()
            self._written = True

    def clear(self) -> None:
        if self._written:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._written = False
