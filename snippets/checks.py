"""The one language of this guide's check tools: checks, findings, reports and exit codes.

A tool is a table of `Check`s. `run_checks` runs them in order within one deadline, and each
gives a `Finding`: `ok`, `warn`, `FAIL` or `skip`, with what was found and, for a warning or
a failure, the fix and the section of the guide that explains it. A check that needs one that
did not pass is skipped, naming it. The `Report` of a run prints as text or as JSON (the
schema: `docs/reference/report.schema.json`) and gives the exit code, the same for every
script (`EXIT_CODES`). The doctor runs the tools' tables as one.
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import httpx

from snippets.client import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    ConfigurationError,
    PromptOpsClient,
    PromptOpsError,
    Settings,
    read_settings,
)
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.client.redaction import printable, redact_url, scrub
from snippets.client.settings import read_base_url, secrets_in

SITE: Final = "https://troubleshooting.promptops.com/"
"""Where the guide is published (`site_url` in mkdocs.yml): links to sections start here."""

DEADLINE: Final = 30.0
"""Seconds a tool's whole run may take, whatever the network does (`--deadline`)."""

Status = Literal["ok", "warning", "failure", "skipped"]

MARKS: Final[dict[Status, str]] = {
    "ok": "ok",
    "warning": "warn",
    "failure": "FAIL",
    "skipped": "skip",
}
"""Words, not symbols: they read the same without colour, in a log, to a screen reader."""

EXIT_OK: Final = 0
EXIT_WARNINGS: Final = 1
EXIT_FAILURES: Final = 2
EXIT_INTERRUPTED: Final = 130
EXIT_CODES: Final[dict[int, str]] = {
    EXIT_OK: "every check passed (some may be skipped as not applicable: plain http, a proxy)",
    EXIT_WARNINGS: "warnings, no failure",
    EXIT_FAILURES: "at least one failure, or the deadline cut the run short; or an error "
    "stopped the tool, or the command line was wrong",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
"""What each exit code of every script means: the docs' table is written from it."""

SCHEMA_VERSION: Final = 2
TITLE_WIDTH: Final = 20
"""The column of titles in a text report: every check's title fits."""


@dataclass(frozen=True)
class Outcome:
    """What one check found."""

    status: Status
    detail: str
    fix: str | None = None
    """A fix for this particular finding; None: the check's own."""
    measurements: Mapping[str, float | None] = field(default_factory=dict)
    """Numbers for monitoring (`--json`): a duration, an offset, a count."""


@dataclass(frozen=True)
class Check:
    """One row of a tool's table: what it checks, what it needs, and what to do if it fails."""

    id: str
    """Stable, for `--json` and monitoring: `dns`, `auth`."""
    title: str
    run: Callable[[CheckContext], Awaitable[Outcome]] = field(repr=False)
    fix: str
    """What to do when it does not pass, in one line; `{host}` and `{port}` are the API's,
    `{proxy_variable}` the variable that names a proxy for its scheme."""
    section: str
    """The section of the guide that explains what it detects: `page/#anchor`."""
    what: str
    """What it checks, in a sentence, for the reference pages."""
    needs: tuple[str, ...] = ()
    """Checks that must pass (ok or warn) first; if one did not, this one is skipped."""

    @property
    def link(self) -> str:
        return f"{SITE}{self.section}"


@dataclass(frozen=True)
class Finding:
    """One check's line of a report."""

    id: str
    title: str
    status: Status
    detail: str
    """One line; text from servers escaped, no secret."""
    fix: str | None
    """What to do, in one line: for a warning or a failure only."""
    link: str
    """The section of the guide that explains what the check detects."""
    ran_out_of_time: bool = False
    """The deadline passed before the check could finish, or start."""
    measurements: Mapping[str, float | None] = field(default_factory=dict)

    def lines(self, *, colour: bool = False) -> list[str]:
        """The finding as a report shows it: mark, title and detail; under a warning or a
        failure, the fix and the link."""
        mark = f"{MARKS[self.status]:<4}"
        if colour:
            mark = f"\x1b[{_COLOURS[self.status]}m{mark}\x1b[0m"
        lines = [f"{mark}  {self.title:<{TITLE_WIDTH}}  {self.detail}"]
        if self.status in ("warning", "failure"):
            indent = " " * (len("FAIL  ") + TITLE_WIDTH + 2)
            lines += [f"{indent}fix: {self.fix}", f"{indent}see: {self.link}"]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "link": self.link,
            "ran_out_of_time": self.ran_out_of_time,
            "measurements": dict(self.measurements),
        }


_COLOURS: Final[dict[Status, str]] = {
    "ok": "32",  # green
    "warning": "33",  # yellow
    "failure": "1;31",  # bold red
    "skipped": "2",  # dim
}


@dataclass(frozen=True)
class Report:
    """The findings of one run of a tool."""

    tool: str
    """The script's name without `promptops-`: `doctor`, `health-check`."""
    base_url: str
    """The API root checked, without credentials."""
    deadline: float
    findings: tuple[Finding, ...]
    simulated: str | None = None
    """The `--mock` scenario, when the API was the simulated one."""

    @property
    def counts(self) -> dict[Status, int]:
        found = Counter(finding.status for finding in self.findings)
        return {status: found[status] for status in MARKS}

    @property
    def ran_out_of_time(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.ran_out_of_time]

    @property
    def exit_code(self) -> int:
        counts = self.counts
        if counts["failure"] or self.ran_out_of_time:
            return EXIT_FAILURES
        return EXIT_WARNINGS if counts["warning"] else EXIT_OK

    def header(self) -> str:
        """`PromptOps doctor: https://api.promptops.com`, saying so when the API is simulated."""
        line = f"PromptOps {self.tool.replace('-', ' ')}: {self.base_url}"
        if self.simulated:
            line += f" (simulated API: --mock {self.simulated})"
        return line

    def summary(self) -> str:
        """`9 ok, 1 warning, 1 failure, 2 skipped`, and which checks the deadline cut."""
        counts = self.counts
        line = ", ".join(
            [
                f"{counts['ok']} ok",
                _plural(counts["warning"], "warning"),
                _plural(counts["failure"], "failure"),
                f"{counts['skipped']} skipped",
            ]
        )
        if self.ran_out_of_time:
            titles = ", ".join(finding.title for finding in self.ran_out_of_time)
            line += f"; ran out of time ({self.deadline:g} s deadline): {titles}"
        return line

    def text(self, *, colour: bool = False) -> list[str]:
        """The report as lines: the header, each finding, the summary."""
        lines = [self.header()]
        for finding in self.findings:
            lines += finding.lines(colour=colour)
        return [*lines, self.summary()]

    def __str__(self) -> str:
        return "\n".join(self.text())

    def print(self) -> None:
        """Print the report, a line at a time (as the tools do)."""
        for line in self.text():
            print(line)

    def as_json(self) -> dict[str, Any]:
        """The report for CI and monitoring: see docs/reference/report.schema.json."""
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": self.tool,
            "base_url": self.base_url,
            "simulated": {"scenario": self.simulated} if self.simulated else None,
            "deadline_seconds": self.deadline,
            "exit_code": self.exit_code,
            "summary": self.counts,
            "ran_out_of_time": [finding.id for finding in self.ran_out_of_time],
            "checks": [finding.as_json() for finding in self.findings],
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# -- where the checks look ----------------------------------------------------------------

Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    """The addresses the operating system resolves `host` to (what httpx will use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Network:
    """How checks reach the network below HTTP (DNS, TCP, TLS). The defaults are the real
    thing; the tests and `--mock` put stand-ins here. HTTP always goes through the client."""

    resolve: Resolver = system_resolver
    connect_to: tuple[str, int] | None = None
    """Where TCP and TLS checks connect instead of the API's (or the proxy's) host and port:
    a server on 127.0.0.1 standing in for it."""
    tls_context: ssl.SSLContext | None = None
    """The CAs TLS checks trust instead of the client's: the stand-in's."""


class CheckContext:
    """What the checks of one run share: the settings' source, the clock, the network, the
    deadline, the client, and what earlier checks learned (`facts`)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        clock: Clock = SYSTEM_CLOCK,
        network: Network | None = None,
        deadline: float = DEADLINE,
        simulated: str | None = None,
        max_retries: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.environ, self.clock, self.deadline = environ, clock, deadline
        self.network = network or Network()
        self.simulated = simulated
        self.max_retries = max_retries
        """For the client: None for its default; the doctor reports what answers now (0)."""
        self.options: Mapping[str, Any] = options or {}
        """The tool's own command-line options (`--prompt`)."""
        self.facts: dict[str, Any] = {}
        """What a check learned for the ones after it."""
        self.headers: Mapping[str, str] = {}
        """The headers of the first answer to a call with the key."""
        self._clients: dict[bool, PromptOpsClient] = {}

    @property
    def shown_url(self) -> str:
        """The base URL as set, for a report's header: without credentials or query."""
        return redact_url(self.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)

    @property
    def secrets(self) -> list[str]:
        """The key as set and as the client sends it, and the proxies' passwords: none may
        be shown (`secrets_in`)."""
        return secrets_in(self.environ)

    def settings(self, *, require_key: bool = True) -> Settings:
        """The client's settings from this run's environment; `ConfigurationError` if one
        cannot be used."""
        return read_settings(self.environ, require_key=require_key)

    async def client(self, *, require_key: bool = True) -> PromptOpsClient:
        """The client, as an application builds it from these settings: one with the key, one
        without for the public endpoints, each made once."""
        if require_key not in self._clients:

            async def record(response: Any) -> None:
                if not self.headers:
                    self.headers = response.headers

            retries: dict[str, Any] = {}
            if self.max_retries is not None:
                retries["max_retries"] = self.max_retries
            self._clients[require_key] = PromptOpsClient(
                settings=self.settings(require_key=require_key),
                clock=self.clock,
                # The run's deadline ends every call first, and says which check ran out.
                timeout=self.deadline + 1,
                event_hooks={"response": [record]} if require_key else None,
                **retries,
            )
        return self._clients[require_key]

    def format_fix(self, fix: str) -> str:
        """A check's fix with `{host}`, `{port}` and `{proxy_variable}` filled in: from the
        base URL alone, whatever the other settings."""
        try:
            url = read_base_url(self.environ).value
        except ConfigurationError:
            url = DEFAULT_BASE_URL
        parsed = httpx.URL(url)
        https = parsed.scheme == "https"
        return fix.format(
            host=parsed.host,
            port=parsed.port or (443 if https else 80),
            proxy_variable="HTTPS_PROXY" if https else "HTTP_PROXY",
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


# -- running them -------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]
"""Told (number, total, title) as each check starts."""


async def run_checks(
    tool: str,
    checks: Sequence[Check],
    ctx: CheckContext,
    *,
    on_progress: Progress | None = None,
    on_finding: Callable[[Finding], None] | None = None,
) -> Report:
    """Run `checks` in order within `ctx.deadline` seconds in all, and report.

    A check whose `needs` did not pass is skipped, naming the first failure it follows from.
    Once the deadline has passed, the check running fails as out of time and the rest are not
    run. A check's error (any exception) is its failure, never the run's. No secret reaches
    the report, and what servers said is shown escaped. The deadline is kept on the event
    loop's clock, as the client keeps its own (on `FakeClock.event_loop()`, fake time).
    """
    ends_at = asyncio.get_running_loop().time() + ctx.deadline
    # check id -> why the checks that need it are skipped, and whether the deadline did it
    blocked: dict[str, tuple[str, bool]] = {}
    findings: list[Finding] = []
    try:
        for number, check in enumerate(checks, start=1):
            if on_progress is not None:
                on_progress(number, len(checks), check.title)
            finding = await _run_one(check, ctx, blocked, ends_at)
            findings.append(finding)
            if on_finding is not None:
                on_finding(finding)
            if finding.status == "failure":
                why = "ran out of time" if finding.ran_out_of_time else "failed"
                blocked[check.id] = (f"needs {check.title}, which {why}", False)
    finally:
        await ctx.aclose()
    return Report(tool, ctx.shown_url, ctx.deadline, tuple(findings), ctx.simulated)


async def _run_one(
    check: Check, ctx: CheckContext, blocked: dict[str, tuple[str, bool]], ends_at: float
) -> Finding:
    def finding(outcome: Outcome, *, out_of_time: bool = False) -> Finding:
        fix = None
        if outcome.status in ("warning", "failure"):
            fix = _shown(outcome.fix or ctx.format_fix(check.fix), ctx)
        return Finding(
            check.id,
            check.title,
            outcome.status,
            _shown(outcome.detail, ctx),
            fix,
            check.link,
            out_of_time,
            {name: _finite(value) for name, value in outcome.measurements.items()},
        )

    cause = next((blocked[need] for need in check.needs if need in blocked), None)
    if cause is not None:
        blocked[check.id] = cause  # the first cause, for the checks after this one
        why, deadline_passed = cause
        return finding(Outcome("skipped", why), out_of_time=deadline_passed)
    if asyncio.get_running_loop().time() >= ends_at:
        why = f"not run: the {ctx.deadline:g} s deadline had passed"
        blocked[check.id] = (why, True)
        return finding(Outcome("skipped", why), out_of_time=True)
    deadline = asyncio.timeout_at(ends_at)
    try:
        async with deadline:
            outcome = await check.run(ctx)
    except TimeoutError as exc:
        if not deadline.expired():  # not the run's deadline: the check's own error
            outcome = Outcome("failure", f"TimeoutError: {exc}")
        else:
            ran_out = f"ran out of time: no result within the {ctx.deadline:g} s deadline"
            fix = (
                "A proxy or firewall holding the connection, or an overloaded API? "
                "--deadline waits longer"
            )
            return finding(Outcome("failure", ran_out, fix), out_of_time=True)
    except (PromptOpsError, ConfigurationError) as exc:
        outcome = Outcome("failure", str(exc))
    except Exception as exc:  # a check must not stop the others, whatever went wrong
        outcome = Outcome("failure", f"{type(exc).__name__}: {exc}")
    return finding(outcome)


def _shown(text: str, ctx: CheckContext) -> str:
    """`text` as a report may show it: no key, on one line, control characters escaped."""
    return printable(scrub(text, ctx.secrets), limit=1000)


def _finite(value: float | None) -> float | None:
    """A measurement as JSON can hold it: NaN and infinities are null (RFC 8259 has none)."""
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return None
    return value
