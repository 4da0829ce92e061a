"""The doctor's checks, in one table (`CHECKS`), and `run_doctor`, which runs them in order
within one overall deadline.

Each check reuses a piece of the guide: the configuration doctor's `diagnose`, the network
diagnostics' DNS, TCP, HTTP and TLS checks, the clock skew measurement, the profiler's
percentiles and the client itself. What reaches the network goes through `Network`, which the
tests and `--mock` replace; time comes from the `clock` passed in and the event loop's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

import certifi

from snippets.authentication.clock_skew import judge_skew, measure_clock_skew
from snippets.client import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    AuthenticationError,
    ConfigurationError,
    HealthStatus,
    PromptOpsClient,
    PromptOpsError,
    RateLimitError,
    ServerError,
    check_base_url,
)
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.client.redaction import printable, redact_url, scrub
from snippets.common_issues.config_doctor import Finding, diagnose, proxy_for
from snippets.debugging.network_diagnostics import (
    Resolver,
    check_dns,
    check_http,
    check_tcp,
    check_tls,
    system_resolver,
)
from snippets.performance_issues.profiler import PerformanceProfiler, percentile

from .report import CheckResult, Report, Status

SITE: Final = "https://troubleshooting.promptops.com/"
"""Where the guide is published (`site_url` in mkdocs.yml): the links of the report start here."""

DEADLINE: Final = 30.0
"""Seconds the whole run may take, whatever the network does (`--deadline`)."""

LATENCY_SAMPLES: Final = 5
"""Calls timed for the latency check, cached and uncached each."""
SLOW_MS: Final = 1000.0
"""An uncached p95 above this is a warning."""
TOO_SLOW_MS: Final = 5000.0
"""An uncached p95 above this is a failure: calls time out under the client's defaults."""
LOW_HEADROOM: Final = 0.1
"""Less than this share of the rate limit left is a warning."""


@dataclass(frozen=True)
class Network:
    """How the checks reach the network. The defaults are the real thing; the tests and
    `--mock` put stand-ins here."""

    resolve: Resolver = system_resolver
    """Name resolution for the DNS check."""
    connect_to: tuple[str, int] | None = None
    """Where the TCP and TLS checks connect instead of the API's host and port: a server on
    127.0.0.1 standing in for it."""
    tls_context: ssl.SSLContext | None = None
    """The CAs the TLS check trusts; by default the client's: `SSL_CERT_FILE` or
    `SSL_CERT_DIR` if set, else certifi's."""


@dataclass(frozen=True)
class Outcome:
    """What one check found."""

    status: Status
    detail: str
    fix: str | None = None
    """A fix for this particular finding; None: the check's own fix line."""
    measurements: dict[str, float] = field(default_factory=dict)
    """Numbers for monitoring (`--json`): latency percentiles, the clock offset."""


class _Response(Protocol):  # what the client's response event hook is given (an httpx.Response)
    status_code: int
    headers: Mapping[str, str]


class Context:
    """What the checks share during one run: the settings, and what earlier checks learned."""

    def __init__(
        self, environ: Mapping[str, str], clock: Clock, network: Network, deadline: float
    ) -> None:
        self.environ, self.clock, self.network, self.deadline = environ, clock, network, deadline
        self.key = environ.get(API_KEY_ENV, "")
        raw_url = environ.get(BASE_URL_ENV, DEFAULT_BASE_URL)
        self.shown_url = redact_url(raw_url)
        try:
            self.base_url: str | None = check_base_url(raw_url, BASE_URL_ENV)
        except ConfigurationError:
            self.base_url = None
        url = urllib.parse.urlsplit(self.base_url or DEFAULT_BASE_URL)
        self.scheme, self.host = url.scheme, url.hostname or ""
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.proxy = _proxy_address(self.base_url or DEFAULT_BASE_URL, environ)
        self.findings: dict[str, Finding] = {}
        self.authenticated: HealthStatus | PromptOpsError | None = None
        self.headers: Mapping[str, str] = {}  # of the answer to the first authenticated call
        self.prompt: tuple[str, dict[str, str]] | None = None  # a prompt id and its variables
        self._client: PromptOpsClient | None = None

    @property
    def secrets(self) -> list[str]:
        """The key as set and as the client sends it: neither may be printed."""
        return [self.key, self.key.strip().strip("'\"").strip()]

    def trusted_cas(self) -> ssl.SSLContext:
        """The CAs the checks trust: the network's stand-in's, else the client's."""
        return self.network.tls_context or _trusted_cas(
            self.environ.get("SSL_CERT_FILE"), self.environ.get("SSL_CERT_DIR")
        )

    def finding(self, topic: str) -> Finding:
        """The configuration doctor's finding about `topic` ("API key", "Endpoint", ...)."""
        if not self.findings:
            self.findings = {f.topic: f for f in diagnose(self.environ)}
        return self.findings[topic]

    async def client(self) -> PromptOpsClient:
        """The client, as an application would build it from these settings: made once."""
        if self._client is None:

            async def record(response: _Response) -> None:
                if not self.headers:
                    self.headers = response.headers  # any case, as HTTP names go

            self._client = PromptOpsClient(
                api_key=self.key,
                base_url=self.base_url,
                clock=self.clock,
                # The doctor's deadline ends every call first: it says which check ran out.
                timeout=self.deadline + 1,
                # What the API answers now, at once: a 429 is reported, not waited out.
                max_retries=0,
                event_hooks={"response": [record]},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _proxy_address(base_url: str, environ: Mapping[str, str]) -> tuple[str, int] | None:
    """Host and port of the proxy the client would go through for `base_url`
    (`config_doctor.proxy_for`), or None."""
    proxy = proxy_for(base_url, environ)
    if proxy is None:
        return None
    parsed = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:  # not a port: config_doctor shows the variable
        return None
    return (parsed.hostname, port) if parsed.hostname else None


def _address(host: str, port: int) -> str:
    """`host:port`, an IPv6 address in brackets: `[::1]:3128`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@functools.cache
def _trusted_cas(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """The CAs the client trusts, as httpx picks them from `SSL_CERT_FILE` and `SSL_CERT_DIR`:
    the file, else the folder, else certifi's. One context per setting: loading a bundle
    takes tens of milliseconds."""
    if cert_file:
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir:
        return ssl.create_default_context(capath=cert_dir)
    return ssl.create_default_context(cafile=certifi.where())


# -- the checks ---------------------------------------------------------------------------

_LEVELS: Final[dict[str, Status]] = {"OK": "ok", "WARN": "warning", "ERROR": "failure"}
_VERDICTS: Final[dict[str, Status]] = {"PASS": "ok", "WARN": "warning", "FAIL": "failure"}


async def _configuration(topic: str, title: str, ctx: Context) -> Outcome:
    finding = ctx.finding(topic)
    return Outcome(_LEVELS[finding.level], finding.message.removeprefix(f"{title}: "))


def _where(ctx: Context) -> tuple[str, int, str]:
    """The host and port the client opens connections to, and how to name them: the API's,
    or the proxy's."""
    if ctx.proxy:
        host, port = ctx.proxy
        return host, port, f"{_address(host, port)} (the proxy)"
    return ctx.host, ctx.port, _address(ctx.host, ctx.port)


async def _dns(ctx: Context) -> Outcome:
    host, _, _ = _where(ctx)
    (check,) = await check_dns([host], ctx.network.resolve, time_limit=ctx.deadline + 1)
    if check.status == "PASS":
        return Outcome("ok", f"{host} resolves to {check.detail}")
    return Outcome("failure", f"{host} does not resolve: {check.detail}")


async def _tcp(ctx: Context) -> Outcome:
    host, port, shown = _where(ctx)
    check = await check_tcp(
        host, port, connect_to=ctx.network.connect_to, time_limit=ctx.deadline + 1
    )
    if check.status == "PASS":
        return Outcome("ok", f"{shown} accepts connections")
    return Outcome("failure", f"{shown}: {check.detail}")


async def _tls(ctx: Context) -> Outcome:
    if ctx.scheme != "https":
        return Outcome("skipped", "not used: the base URL is plain http")
    if ctx.proxy:
        return Outcome(
            "skipped",
            f"through the proxy {_address(*ctx.proxy)}: Public health checks TLS end to end",
        )
    host, port = ctx.network.connect_to or (ctx.host, ctx.port)
    try:
        context = ctx.trusted_cas()
    except OSError as exc:  # a CA file that is not one (ssl.SSLError)
        return Outcome("failure", f"the CA bundle cannot be loaded: {exc}")
    check = await check_tls(
        ctx.host,
        port,
        connect_to=host,
        context=context,
        clock=ctx.clock,
        time_limit=ctx.deadline + 1,
    )
    return Outcome(_VERDICTS[check.status], check.detail)


async def _public_health(ctx: Context) -> Outcome:
    assert ctx.base_url is not None  # needs "base-url"
    (check,) = await check_http(
        ctx.base_url,
        ["/v1/health"],
        clock=ctx.clock,
        time_limit=ctx.deadline + 1,
        read_body=True,
        verify=ctx.trusted_cas(),
    )
    return Outcome(_VERDICTS[check.status], f"GET /v1/health: {check.detail}")


async def _clock(ctx: Context) -> Outcome:
    try:
        offset = await measure_clock_skew(
            ctx.base_url, clock=ctx.clock, deadline=ctx.deadline + 1, verify=ctx.trusted_cas()
        )
    except ServerError as exc:  # no valid Date header: nothing to say of this machine's clock
        fix = "A proxy in front of the API may drop the Date header: ask its admins"
        return Outcome("failure", str(exc), fix)
    level, reason = judge_skew(offset)
    # Whole seconds, as the detail says: the Date header counts no fractions.
    return Outcome(_LEVELS[level], reason, measurements={"offset_seconds": int(offset)})


async def _authenticated_call(ctx: Context) -> HealthStatus | PromptOpsError:
    """The first call with the key, which the rate limit and authentication checks read."""
    if ctx.authenticated is None:
        client = await ctx.client()
        try:
            ctx.authenticated = await client.health_check()
        except PromptOpsError as exc:
            ctx.authenticated = exc
    return ctx.authenticated


def _header_number(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        value = headers.get(name, "").split(",")[0].split(";")[0].strip()
        with contextlib.suppress(ValueError):
            return float(value)
    return None


async def _rate_limit(ctx: Context) -> Outcome:
    answer = await _authenticated_call(ctx)
    if isinstance(answer, RateLimitError):
        wait = answer.retry_after
        asked = f"; the API asks to wait {wait:g} s" if wait is not None else ""
        fix = (
            f"Wait {wait:g} s; then cache prompts, batch renders and bound concurrency"
            if wait is not None
            else None
        )
        measurements = {"retry_after_seconds": wait} if wait is not None else {}
        return Outcome("failure", f"{answer}{asked}", fix, measurements)
    # Headroom, where the API says: the IETF RateLimit fields, or the older X- ones.
    remaining = _header_number(ctx.headers, "RateLimit-Remaining", "X-RateLimit-Remaining")
    limit = _header_number(ctx.headers, "RateLimit-Limit", "X-RateLimit-Limit")
    if remaining is None or not limit:
        return Outcome("ok", "not limited (the API sends no remaining count)")
    left = f"{remaining:g} of {limit:g} requests left"
    measurements = {"remaining": remaining, "limit": limit}
    if remaining < LOW_HEADROOM * limit:
        return Outcome("warning", f"{left}: close to the limit", measurements=measurements)
    return Outcome("ok", left, measurements=measurements)


async def _authentication(ctx: Context) -> Outcome:
    answer = await _authenticated_call(ctx)
    if isinstance(answer, HealthStatus):
        return Outcome("ok", f"key and signature accepted (API {answer.version})")
    if isinstance(answer, AuthenticationError):
        return Outcome("failure", str(answer))
    return Outcome(
        "failure", str(answer), fix="Read the error: the API answered, but not with its health"
    )


async def _round_trip(ctx: Context) -> Outcome:
    client = await ctx.client()
    try:
        prompt_ids = await client.list_prompts()
    except AuthenticationError as exc:  # the health endpoint took the key; prompts did not
        fix = "Check in the dashboard that this key may read prompts in its workspace"
        return Outcome("failure", str(exc), fix)
    if not prompt_ids:
        return Outcome(
            "warning",
            "this key sees no prompts",
            fix="Create a prompt, or check the key's workspace",
        )
    prompt = await client.get_prompt(prompt_ids[0])
    variables = dict.fromkeys(prompt.variables, "doctor")
    rendered = await client.render_prompt(prompt.id, variables)
    ctx.prompt = (prompt.id, variables)
    return Outcome(
        "ok",
        f"{printable(prompt.id)} v{prompt.version} fetched and rendered "
        f"({len(rendered.content)} characters)",
    )


async def _latency(ctx: Context) -> Outcome:
    if ctx.prompt is None:
        return Outcome("skipped", "no prompt to time")
    client, (prompt_id, variables) = await ctx.client(), ctx.prompt
    profiler = PerformanceProfiler(clock=ctx.clock)
    for _ in range(LATENCY_SAMPLES):
        async with profiler.profile("uncached"):  # every render is a request
            await client.render_prompt(prompt_id, variables)
        async with profiler.profile("cached"):  # fetched by the round trip: from the cache
            await client.get_prompt(prompt_id)
    figures = {}
    for kind in ("uncached", "cached"):
        durations = [m.duration_ms for m in profiler.measurements if m.operation == kind]
        figures[f"{kind}_p50_ms"] = round(percentile(durations, 50), 1)
        figures[f"{kind}_p95_ms"] = round(percentile(durations, 95), 1)
    detail = (
        f"p50 {figures['uncached_p50_ms']:.0f} ms, p95 {figures['uncached_p95_ms']:.0f} ms "
        f"uncached; p50 {figures['cached_p50_ms']:.0f} ms, p95 {figures['cached_p95_ms']:.0f} "
        f"ms cached ({LATENCY_SAMPLES} calls each)"
    )
    p95 = figures["uncached_p95_ms"]
    status: Status = "failure" if p95 > TOO_SLOW_MS else "warning" if p95 > SLOW_MS else "ok"
    if status != "ok":
        limit = TOO_SLOW_MS if status == "failure" else SLOW_MS
        detail = f"{detail}: p95 over {limit:.0f} ms"
    return Outcome(status, detail, measurements=figures)


# -- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One row of the table: what a check is called, what it needs, and what to do when it
    does not pass."""

    id: str
    """Stable, for `--json` and monitoring: `dns`, `auth`."""
    title: str
    run: Callable[[Context], Awaitable[Outcome]] = field(repr=False)
    needs: tuple[str, ...]
    """Checks that must pass (ok or warning) first; if one does not, this one is skipped."""
    fix: str
    """What to do when it does not pass, in one line; `{host}` and `{port}` are the API's,
    `{proxy_variable}` the variable that names a proxy for its scheme."""
    section: str
    """The page section that explains the problem, as `page/#anchor` of the built site."""
    what: str
    """What it checks, for the reference page."""

    @property
    def link(self) -> str:
        return f"{SITE}{self.section}"


CHECKS: Final[tuple[Check, ...]] = (
    Check(
        "api-key",
        "API key",
        functools.partial(_configuration, "API key", "API key"),
        needs=(),
        fix="Set PROMPTOPS_API_KEY to the key from the dashboard, without quotes, spaces or "
        "line breaks, where the client runs",
        section="common-issues/#configurationerror-no-api-key",
        what="`PROMPTOPS_API_KEY` is set, without quotes, spaces or line breaks around or "
        "inside it, and looks like a PromptOps key (`po_...`). The key itself is never "
        "shown.",
    ),
    Check(
        "base-url",
        "Base URL",
        functools.partial(_configuration, "Endpoint", "Base URL"),
        needs=(),
        fix="Unset PROMPTOPS_BASE_URL for the default, or set it to the API root over https",
        section="common-issues/#a-setting-is-rejected",
        what="`PROMPTOPS_BASE_URL` is unset (the default) or the API root: http(s), a host, no "
        "path, no credentials, no query.",
    ),
    Check(
        "proxy",
        "Proxy",
        functools.partial(_configuration, "Proxy", "Proxy"),
        needs=(),
        fix="Check that the proxy lets {host}:{port} through, or name the host in NO_PROXY",
        section="faq/#does-the-client-work-behind-a-corporate-proxy",
        what="Whether requests go through a proxy (`HTTPS_PROXY`, `ALL_PROXY`, unless "
        "`NO_PROXY` names the host): then the DNS and TCP checks test the proxy, which "
        "is what the client connects to.",
    ),
    Check(
        "ca-bundle",
        "CA bundle",
        functools.partial(_configuration, "TLS", "CA bundle"),
        needs=(),
        fix="Point SSL_CERT_FILE at a bundle of certifi's CAs and your company's",
        section="common-issues/#tls-certificate_verify_failed",
        what="`SSL_CERT_FILE` names a file that exists; `REQUESTS_CA_BUNDLE`, which httpx "
        "ignores, is not set alone.",
    ),
    Check(
        "dns",
        "DNS",
        _dns,
        needs=("base-url",),
        fix="Check the host in PROMPTOPS_BASE_URL, and this machine's DNS: getent hosts {host}",
        section="common-issues/#network_error-could-not-reach-httpsapipromptopscom",
        what="The host the client connects to resolves.",
    ),
    Check(
        "tcp",
        "TCP connect",
        _tcp,
        needs=("dns",),
        fix="Allow outbound connections to {host}:{port}, or set {proxy_variable} if the "
        "network requires a proxy",
        section="common-issues/#network_error-could-not-reach-httpsapipromptopscom",
        what="A TCP connection to it opens: no firewall or closed port in the way.",
    ),
    Check(
        "tls",
        "TLS",
        _tls,
        needs=("tcp", "ca-bundle"),
        fix="Behind a proxy that inspects HTTPS, add its CA to the bundle in SSL_CERT_FILE; "
        "never turn verification off",
        section="common-issues/#tls-certificate_verify_failed",
        what="The certificate verifies for the API's host name with the CAs the client "
        "trusts, and does not expire within 14 days.",
    ),
    Check(
        "public-health",
        "Public health",
        _public_health,
        needs=("tls",),
        fix="Check status.promptops.com; if a proxy answered instead, check its allow-list",
        section="debugging/#network-diagnostics",
        what="`GET /v1/health` (no key) answers a PromptOps JSON envelope, read to its end "
        "(64 KiB at most), that is not an error.",
    ),
    Check(
        "clock",
        "Clock skew",
        _clock,
        needs=("public-health",),
        fix="Sync this machine's clock: timedatectl set-ntp true (systemd), or chrony or ntpd",
        section="authentication/#clock-skew-request-timestamp-is-more-than-300-s-from-server-time",
        what="This machine's clock against the `Date` header of the public health endpoint: "
        "more than 5 s off is a warning, more than the 300 s the signature allows is a "
        "failure.",
    ),
    Check(
        "rate-limit",
        "Rate limit",
        _rate_limit,
        needs=("api-key", "clock"),
        fix="Cache prompts, batch renders and bound concurrency; check the plan's limit",
        section="common-issues/#rate_limit_error-rate-limit-exceeded-http-429",
        what="The first call with the key is not refused with `429`; where the API sends "
        "`RateLimit-Remaining` and `RateLimit-Limit`, less than 10 % left is a warning.",
    ),
    Check(
        "auth",
        "Authenticated health",
        _authentication,
        needs=("rate-limit",),
        fix="Check PROMPTOPS_API_KEY against the dashboard: revoked, or from another workspace?",
        section="authentication/#authentication_error-invalid-api-key-or-signature",
        what="`GET /v1/client/health` accepts the key and the request signature.",
    ),
    Check(
        "round-trip",
        "Prompt round trip",
        _round_trip,
        needs=("auth",),
        fix="Read the error: it names the prompt or the field at fault",
        section="common-issues/#request-problems",
        what="The first prompt the key can list is fetched and rendered, each of its "
        "variables set.",
    ),
    Check(
        "latency",
        "Latency",
        _latency,
        needs=("round-trip",),
        fix="Profile your calls (promptops-profiler); cache prompts, reuse one client",
        section="performance-issues/#measure-first-the-profiler",
        what="Five renders (each a request) and five fetches from the cache: p50 and p95 of "
        "each. An uncached p95 over 1 s is a warning, over 5 s a failure.",
    ),
)


# -- running them -------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]
"""Told (number, total, title) as each check starts."""


async def run_doctor(
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    network: Network | None = None,
    deadline: float = DEADLINE,
    on_progress: Progress | None = None,
) -> Report:
    """Run every check in `CHECKS`, in order, within `deadline` seconds in all.

    A check whose `needs` did not pass is skipped, naming the first failure it follows from;
    once the deadline has passed, the check running fails as out of time and the rest are not
    run. No secret reaches the report, and what servers said is shown escaped.

    Args:
        environ: The settings to check (`os.environ`): the key, the base URL, proxy and CA
            variables. The client is built from the same key and base URL.
        clock: For durations, signatures and certificate expiry; the deadline is kept on the
            event loop's clock, as the client keeps its own (on `FakeClock.event_loop()`, the
            same fake time).
        network: How the checks reach the network; stand-ins for tests and `--mock`.
        deadline: Seconds for the whole run.
        on_progress: Told (number, total, title) as each check starts.
    """
    ctx = Context(os.environ if environ is None else environ, clock, network or Network(), deadline)
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + deadline
    # check id -> why the checks that need it are skipped, and whether that is the deadline's doing
    blocked: dict[str, tuple[str, bool]] = {}
    results: list[CheckResult] = []
    try:
        for number, check in enumerate(CHECKS, start=1):
            if on_progress is not None:
                on_progress(number, len(CHECKS), check.title)
            result = await _run_one(check, ctx, blocked, ends_at)
            results.append(result)
            if result.status == "failure":
                why = "ran out of time" if result.ran_out_of_time else "failed"
                blocked[check.id] = (f"needs {check.title}, which {why}", False)
    finally:
        await ctx.aclose()
    return Report(ctx.shown_url, deadline, tuple(results))


async def _run_one(
    check: Check, ctx: Context, blocked: dict[str, tuple[str, bool]], ends_at: float
) -> CheckResult:
    def result(outcome: Outcome, *, out_of_time: bool = False) -> CheckResult:
        proxy_variable = "HTTPS_PROXY" if ctx.scheme == "https" else "HTTP_PROXY"
        fix: str | None = outcome.fix or check.fix.format(
            host=ctx.host, port=ctx.port, proxy_variable=proxy_variable
        )
        if outcome.status not in ("warning", "failure"):
            fix = None
        return CheckResult(
            check.id,
            check.title,
            outcome.status,
            _shown(outcome.detail, ctx),
            _shown(fix, ctx) if fix else None,
            check.link,
            out_of_time,
            outcome.measurements,
        )

    cause = next((blocked[need] for need in check.needs if need in blocked), None)
    if cause is not None:
        blocked[check.id] = cause  # the first cause, for the checks after this one
        why, deadline_passed = cause
        return result(Outcome("skipped", why), out_of_time=deadline_passed)
    loop = asyncio.get_running_loop()
    if loop.time() >= ends_at:
        why = f"not run: the {ctx.deadline:g} s deadline had passed"
        blocked[check.id] = (why, True)
        return result(Outcome("skipped", why), out_of_time=True)
    deadline = asyncio.timeout_at(ends_at)
    try:
        async with deadline:
            outcome = await check.run(ctx)
    except TimeoutError as exc:
        if not deadline.expired():  # not the doctor's deadline: a check's own error
            outcome = Outcome("failure", f"TimeoutError: {exc}")
        else:
            ran_out = f"ran out of time: no result within the {ctx.deadline:g} s deadline"
            fix = (
                "A proxy or firewall holding the connection, or an overloaded API? "
                "--deadline waits longer"
            )
            return result(Outcome("failure", ran_out, fix), out_of_time=True)
    except (PromptOpsError, ConfigurationError) as exc:
        outcome = Outcome("failure", str(exc))
    except Exception as exc:  # a check must not stop the others, whatever went wrong
        outcome = Outcome("failure", f"{type(exc).__name__}: {exc}")
    return result(outcome)


def _shown(text: str, ctx: Context) -> str:
    """`text` as the report may show it: no key, on one line, control characters escaped."""
    return printable(scrub(text, ctx.secrets), limit=1000)
