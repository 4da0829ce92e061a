"""Every check of the doctor (`snippets.doctor.CHECKS`: the page tools' own checks and the
doctor's rate limit and latency) on each of its paths: ok, warning, failure, skipped, wherever
the check has that path.

Each `Case` is one run of the doctor against the mock API, on fake time, with a TLS server on
127.0.0.1 standing in for the API's host (and, where the settings name a proxy, the HTTP proxy
of `snippets.mock_api.proxy` on 127.0.0.1 tunnelling to it); it states what some of the checks
must find, word for word. A test checks that the cases cover every path of every check.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from snippets.checks import CheckContext, Status
from snippets.client import ConfigurationError
from snippets.client.clock import FakeClock
from snippets.debugging.network_diagnostics import route
from snippets.doctor import CHECKS
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.mock_api.proxy import local_proxy
from snippets.mock_api.tls import LocalTLSServer
from snippets.offline import tls_stand_in
from snippets.scenarios import LASTING, no_dns

from ..local_server import in_a_thread, refused_port
from .helpers import HOST, SETTINGS, by_id, diagnose

PROXY = "http://alice:s3cret@proxy.corp.example:3128"
"""A proxy with credentials: the CONNECT request carries them, no report shows them."""
BLOCKED_PAGE = b"<html><body>Blocked by policy</body></html>"


@dataclass
class World:
    """What one run starts from: the mock API, the settings, the network's stand-ins."""

    api: MockPromptOpsAPI
    clock: FakeClock
    environ: dict[str, str] = field(default_factory=lambda: dict(SETTINGS))
    options: dict[str, Any] = field(default_factory=dict)
    """`diagnose`'s: `resolve`, `connect_to`, `trusted`, `deadline`; and `valid_until` (the
    stand-in's certificate) and `proxy` (`local_proxy`'s options: a proxy stands in)."""


Setup = Callable[[World], None]


def nothing(world: World) -> None:
    pass


def settings(**values: str | None) -> Setup:
    def setup(world: World) -> None:
        for name, value in values.items():
            if value is None:
                world.environ.pop(name, None)
            else:
                world.environ[name] = value

    return setup


def options(**values: Any) -> Setup:
    def setup(world: World) -> None:
        world.options.update(values)

    return setup


def behind_a_proxy(url: str = PROXY, **how: Any) -> Setup:
    """`HTTPS_PROXY` set to `url`; the HTTP proxy of `snippets.mock_api.proxy` on 127.0.0.1
    stands in for it, tunnelling to the TLS stand-in: `how` is its options (`login`,
    `answer`)."""

    def setup(world: World) -> None:
        settings(HTTPS_PROXY=url)(world)
        options(proxy=how)(world)

    return setup


def on_api(change: Callable[[MockPromptOpsAPI], object]) -> Setup:
    def setup(world: World) -> None:
        change(world.api)

    return setup


NOTHING_LISTENS = ("127.0.0.1", -1)
"""`connect_to` for a world where nothing listens: `run_case` puts a port of 127.0.0.1 that
refuses connections there (`refused_port`), held for the run."""


def with_headers(fields: dict[str, str], *, drop: tuple[str, ...] = ()) -> Setup:
    """The mock's answers carry `fields` too, and not the headers named in `drop`."""

    def setup(world: World) -> None:
        own = world.api._headers

        def changed() -> dict[str, str]:
            headers = {**own(), **fields}
            return {name: value for name, value in headers.items() if name not in drop}

        world.api._headers = changed  # type: ignore[method-assign]

    return setup


def headroom(remaining: int, limit: int, fields: str = "RateLimit-") -> Setup:
    """The API sends the IETF RateLimit fields, or the older `X-RateLimit-` ones (the contract
    requires neither)."""
    return with_headers({f"{fields}Limit": str(limit), f"{fields}Remaining": str(remaining)})


def slow_renders(*which: int, seconds: float) -> Setup:
    """The renders numbered `which` (from 1: the Rendering check's; 2 to 6: the latency
    check's five) take `seconds` longer than the others."""

    def setup(world: World) -> None:
        answer, renders = world.api._answer, 0

        def slowed(request: httpx.Request) -> httpx.Response:
            nonlocal renders
            if request.url.path.endswith("/render"):
                renders += 1
                if renders in which:
                    world.clock.block(seconds)
            return answer(request)

        world.api._answer = slowed  # type: ignore[method-assign]

    return setup


def certificate_expiring_in(days: int) -> Setup:
    """OpenSSL checks validity against the real clock: the doctor's clock is set to it."""

    def setup(world: World) -> None:
        now = datetime.now(UTC)
        world.clock.advance(now.timestamp() - world.clock.time())
        world.options["valid_until"] = now + timedelta(days=days, hours=1)

    return setup


@dataclass(frozen=True)
class Case:
    name: str
    setup: Setup
    expect: dict[str, tuple[Status, str]]
    """Check id -> (status, its detail; or, after "...", how its detail ends)."""
    fixes: dict[str, str]
    """Check id -> the fix line it prints, where the finding has a fix of its own."""


def case(
    name: str, *setups: Setup, fixes: dict[str, str] | None = None, **expect: tuple[Status, str]
) -> Case:
    def setup(w: World) -> None:
        for one in setups:
            one(w)

    expected = {check.replace("_", "-"): e for check, e in expect.items()}
    return Case(name, setup, expected, fixes or {})


HEALTHY_TLS = "api.promptops.com, issued by PromptOps Mock CA, expires 2099-12-31 (27027 days left)"

CASES = [
    case(
        "healthy",
        nothing,
        api_key=("ok", "PROMPTOPS_API_KEY is set (27 characters)"),
        base_url=("ok", "default (https://api.promptops.com)"),
        proxy=("ok", "none: requests go direct"),
        ca_bundle=("ok", "certifi's CAs"),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
        tcp=("ok", "api.promptops.com:443 accepts connections"),
        tls=("ok", HEALTHY_TLS),
        public_health=("ok", "GET /v1/health: HTTP 200 in 0 ms"),
        api_paths=(
            "ok",
            "reachable: /v1/client/health HTTP 401, /v1/client/prompts HTTP 401 without a key",
        ),
        clock=("ok", "clock within 0 s of the server"),
        rate_limit=("ok", "not limited (the API sends no remaining count)"),
        auth=("ok", "key and signature accepted; the API is healthy (2026.11.0)"),
        prompt=("ok", "hello-world v3 (the first of 3 listed)"),
        render=("ok", "1 variable(s) set: 'Hello, health-check!' (20 characters)"),
        latency=("ok", "median 0 ms, slowest 0 ms uncached; median 0 ms cached (5 calls each)"),
    ),
    # -- the key: it has no format; quotes and spaces inside are refused, around it ignored --
    case(
        "a key without any particular prefix",
        settings(PROMPTOPS_API_KEY="sk_live_4f9c2a7d1e"),
        api_key=("ok", "PROMPTOPS_API_KEY is set (18 characters)"),
        auth=("failure", "AUTHENTICATION_ERROR: Invalid API key or signature"),
    ),
    case(
        "the mock's key with spaces and a line break around it",
        settings(PROMPTOPS_API_KEY=f"  {MOCK_API_KEY}\n"),
        api_key=(
            "ok",
            "PROMPTOPS_API_KEY is set (27 characters; the spaces around it are ignored)",
        ),
        auth=("ok", "key and signature accepted; the API is healthy (2026.11.0)"),
        latency=("ok", "median 0 ms, slowest 0 ms uncached; median 0 ms cached (5 calls each)"),
    ),
    case(
        "no key",
        settings(PROMPTOPS_API_KEY=None),
        api_key=(
            "failure",
            "No API key: pass api_key=... or set the PROMPTOPS_API_KEY environment variable",
        ),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
        clock=("ok", "clock within 0 s of the server"),
        rate_limit=("skipped", "needs API key, which failed"),
        auth=("skipped", "needs API key, which failed"),
    ),
    case(
        "a key in quotes",
        settings(PROMPTOPS_API_KEY='"po_live_4f9c2a7d1e"'),
        api_key=(
            "failure",
            "The API key (PROMPTOPS_API_KEY) has quotes around it (copied from a .env file?): "
            "remove them (nothing was sent)",
        ),
        latency=("skipped", "needs API key, which failed"),
    ),
    case(
        "a key with a space inside",
        settings(PROMPTOPS_API_KEY="po_live 4f9c2a7d1e"),
        api_key=(
            "failure",
            "The API key (PROMPTOPS_API_KEY) has a space or line break at character 8: copy it "
            "again, without spaces, quotes or line breaks (nothing was sent)",
        ),
    ),
    case(
        "a key that ends with a quote",
        settings(PROMPTOPS_API_KEY="po_live_4f9c2a7d1e'"),
        api_key=(
            "warning",
            "PROMPTOPS_API_KEY is set (19 characters); it starts or ends with a quote: copied "
            "with part of a .env line?",
        ),
        auth=("failure", "AUTHENTICATION_ERROR: Invalid API key or signature"),
    ),
    # -- the base URL -------------------------------------------------------------------------
    case(
        "a base URL with a path",
        settings(PROMPTOPS_BASE_URL="https://api.promptops.com/v1"),
        base_url=(
            "warning",
            "https://api.promptops.com/v1; it has a path (/v1): the API root has none",
        ),
        fixes={
            "base-url": "Unset PROMPTOPS_BASE_URL for the default, or set it to the API root "
            "over https"
        },
    ),
    case(
        "a base URL that is not a URL",
        settings(PROMPTOPS_BASE_URL="api.promptops.com"),
        base_url=(
            "failure",
            "PROMPTOPS_BASE_URL must be an http(s) URL such as 'https://api.promptops.com', got "
            "'api.promptops.com'",
        ),
        proxy=("skipped", "needs Base URL, which failed"),
        dns=("skipped", "needs Base URL, which failed"),
        public_health=("skipped", "needs Base URL, which failed"),
        latency=("skipped", "needs Base URL, which failed"),
    ),
    case(
        "plain http to this machine",
        settings(PROMPTOPS_BASE_URL="http://localhost:8080"),
        base_url=("ok", "http://localhost:8080"),
        tls=("skipped", "not used: the base URL is plain http"),
    ),
    case(
        "plain http to the API",
        settings(PROMPTOPS_BASE_URL="http://api.promptops.com"),
        base_url=(
            "warning",
            "http://api.promptops.com; plain http to api.promptops.com: the key and every prompt "
            "travel unencrypted; use https",
        ),
        tcp=("ok", "api.promptops.com:80 accepts connections"),
        tls=("skipped", "not used: the base URL is plain http"),
    ),
    # -- the proxy ------------------------------------------------------------------------------
    case(
        "behind a proxy with credentials",
        behind_a_proxy(login="alice:s3cret"),  # PROXY's: the tunnel opens
        proxy=(
            "ok",
            "requests to api.promptops.com go through http://***@proxy.corp.example:3128 "
            "(HTTPS_PROXY)",
        ),
        dns=("ok", "proxy.corp.example resolves to 203.0.113.10"),
        tcp=("ok", "proxy.corp.example:3128 (the proxy, HTTPS_PROXY) accepts connections"),
        tls=("ok", f"{HEALTHY_TLS} through the proxy"),
        public_health=("ok", "GET /v1/health: HTTP 200 in 0 ms"),
    ),
    case(
        "a proxy at an IPv6 address",
        behind_a_proxy("http://[::1]:3128"),
        proxy=("ok", "requests to api.promptops.com go through http://[::1]:3128 (HTTPS_PROXY)"),
        dns=("ok", "::1 resolves to ::1"),
        tcp=("ok", "[::1]:3128 (the proxy, HTTPS_PROXY) accepts connections"),
        tls=("ok", f"{HEALTHY_TLS} through the proxy"),
    ),
    case(
        "a proxy that asks for credentials",
        behind_a_proxy("http://proxy.corp.example:3128", login="alice:s3cret"),
        tcp=("ok", "proxy.corp.example:3128 (the proxy, HTTPS_PROXY) accepts connections"),
        tls=(
            "failure",
            "proxy.corp.example:3128 (the proxy, HTTPS_PROXY) did not open a tunnel to "
            "api.promptops.com:443: HTTP/1.1 407 Proxy Authentication Required",
        ),
        public_health=("skipped", "needs TLS, which failed"),
    ),
    case(
        "a proxy that hangs up on CONNECT",
        behind_a_proxy(answer=b""),
        tls=(
            "failure",
            "proxy.corp.example:3128 (the proxy, HTTPS_PROXY) did not open a tunnel to "
            "api.promptops.com:443: no HTTP answer to CONNECT",
        ),
    ),
    case(
        "a proxy URL in capitals",
        behind_a_proxy("HTTP://proxy.corp.example:3128"),
        tls=("ok", f"{HEALTHY_TLS} through the proxy"),
    ),
    case(
        "a proxy the API's host is exempt from",
        settings(HTTPS_PROXY="http://proxy.corp.example:3128", NO_PROXY=".promptops.com"),
        proxy=("ok", "none: NO_PROXY sends api.promptops.com direct"),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
        tls=("ok", HEALTHY_TLS),
    ),
    case(
        "an https:// proxy",
        settings(HTTPS_PROXY="https://proxy.corp.example"),
        proxy=(
            "warning",
            "requests to api.promptops.com go through https://proxy.corp.example (HTTPS_PROXY); "
            "an https:// proxy URL: most proxies speak plain HTTP on their port (http://); with "
            "https:// the TLS handshake fails with WRONG_VERSION_NUMBER",
        ),
        tcp=("ok", "proxy.corp.example:443 (the proxy, HTTPS_PROXY) accepts connections"),
        tls=(
            "skipped",
            "through the https:// proxy proxy.corp.example:443: Public health checks TLS end to "
            "end",
        ),
        fixes={
            "proxy": "Set the variable it names to a proxy httpx can use (http://host:port; for "
            "SOCKS, pip install 'httpx[socks]'), or unset it"
        },
    ),
    case(
        "a proxy URL that does not parse",
        settings(HTTPS_PROXY="http://proxy.corp.example:port"),
        proxy=(
            "failure",
            "HTTPS_PROXY is not a proxy URL ('http://proxy.corp.example:port'): Invalid port: "
            "'port'",
        ),
        dns=("skipped", "needs Proxy, which failed"),
        latency=("skipped", "needs Proxy, which failed"),
    ),
    case(
        "an ftp:// proxy",
        settings(all_proxy="ftp://proxy.corp.example"),
        proxy=(
            "failure",
            "all_proxy names a ftp:// proxy ('ftp://proxy.corp.example'): httpx supports http, "
            "https and socks5 proxies",
        ),
        tcp=("skipped", "needs Proxy, which failed"),
    ),
    # -- the CAs -------------------------------------------------------------------------------
    case(
        "the requests library's CA variable alone",
        settings(REQUESTS_CA_BUNDLE="/etc/corp/ca.pem"),
        ca_bundle=(
            "warning",
            "certifi's CAs; REQUESTS_CA_BUNDLE set, but httpx and this client read SSL_CERT_FILE",
        ),
        tls=("ok", HEALTHY_TLS),
    ),
    case(
        "a CA bundle that is not there",
        settings(SSL_CERT_FILE="/nonexistent/ca.pem"),
        ca_bundle=(
            "failure",
            "SSL_CERT_FILE='/nonexistent/ca.pem' cannot be loaded: No such file or directory",
        ),
        tcp=("ok", "api.promptops.com:443 accepts connections"),
        tls=("skipped", "needs CA bundle, which failed"),
        public_health=("skipped", "needs CA bundle, which failed"),
    ),
    case(
        "a CA folder that is not there",
        settings(SSL_CERT_DIR="/nonexistent/certs"),
        ca_bundle=("failure", "SSL_CERT_DIR='/nonexistent/certs' is not a folder"),
        dns=("ok", "api.promptops.com resolves to 203.0.113.10"),
        tls=("skipped", "needs CA bundle, which failed"),
        fixes={
            "ca-bundle": "Point SSL_CERT_FILE at a bundle of certifi's CAs and your company's "
            "(build_ca_bundle)"
        },
    ),
    # -- DNS, TCP, TLS -------------------------------------------------------------------------
    case(
        "no DNS",
        options(resolve=no_dns),
        dns=("failure", "api.promptops.com does not resolve: [Errno -2] Name or service not known"),
        tcp=("skipped", "needs DNS, which failed"),
        latency=("skipped", "needs DNS, which failed"),
    ),
    case(
        "nothing listening",
        options(connect_to=NOTHING_LISTENS),
        tcp=("failure", "api.promptops.com:443: [Errno 111] Connection refused"),
        tls=("skipped", "needs TCP connect, which failed"),
        fixes={
            "tcp": "Allow outbound connections to api.promptops.com:443, or set HTTPS_PROXY if "
            "the network requires a proxy"
        },
    ),
    case(
        "an untrusted CA",
        options(trusted=False),
        tls=("failure", "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate"),
        public_health=("skipped", "needs TLS, which failed"),
        api_paths=("skipped", "needs TLS, which failed"),
    ),
    case(
        "a certificate expiring in 10 days",
        certificate_expiring_in(10),
        tls=("warning", "...(10 days left)"),
        public_health=("ok", "GET /v1/health: HTTP 200 in 0 ms"),
    ),
    # -- the public endpoint and the API's paths ---------------------------------------------
    case(
        "server errors",
        on_api(lambda api: api.server_error(times=LASTING)),
        public_health=(
            "failure",
            "GET /v1/health: HTTP 503 in 0 ms: the API failed (SERVER_ERROR)",
        ),
        api_paths=("skipped", "needs Public health, which failed"),
        clock=("skipped", "needs Public health, which failed"),
    ),
    case(
        "a proxy's page instead of the public health",
        on_api(
            lambda api: api.malformed_body(
                times=LASTING, status=502, body=b"<h1>Bad gateway</h1>", content_type="text/html"
            )
        ),
        public_health=(
            "failure",
            "GET /v1/health: HTTP 502 in 0 ms, not a PromptOps answer (text/html): a proxy's?",
        ),
    ),
    case(
        "the public health refused",
        on_api(
            lambda api: api.malformed_body(
                times=LASTING,
                status=403,
                body=b'{"success": false, "error": {"code": "FORBIDDEN", "message": "no"}}',
                path="/v1/health",
            )
        ),
        public_health=("failure", "GET /v1/health: HTTP 403 in 0 ms: refused (FORBIDDEN)"),
    ),
    case(
        "the API's paths blocked on the way",
        on_api(
            lambda api: api.malformed_body(
                times=LASTING,
                status=403,
                body=BLOCKED_PAGE,
                content_type="text/html",
                path="/v1/client/prompts",
            )
        ),
        public_health=("ok", "GET /v1/health: HTTP 200 in 0 ms"),
        api_paths=(
            "failure",
            "GET /v1/client/prompts: HTTP 403, not a PromptOps answer (text/html): blocked on the "
            "way?",
        ),
        auth=("ok", "key and signature accepted; the API is healthy (2026.11.0)"),
        fixes={
            "api-paths": "Ask the proxy's admins to allow api.promptops.com/v1/client/ as a whole"
        },
    ),
    # -- the clock --------------------------------------------------------------------------
    case(
        "a clock a minute fast",
        on_api(lambda api: api.clock_skew(-60)),
        clock=("warning", "clock 60 s ahead of the server: sync it before it passes 300 s"),
        auth=("ok", "key and signature accepted; the API is healthy (2026.11.0)"),
    ),
    case(
        "a clock 7 minutes slow",
        on_api(lambda api: api.clock_skew(420)),
        # 419 or 420: the Date header counts whole seconds; the fake clock moved by the real
        # time the TCP and TLS checks' sockets took
        clock=(
            "failure",
            "... s behind the server, over the 300 s window: every request is rejected",
        ),
        rate_limit=("skipped", "needs Clock skew, which failed"),
        auth=("skipped", "needs Clock skew, which failed"),
        fixes={
            "clock": "Sync this machine's clock: timedatectl set-ntp true (systemd), or chrony or "
            "ntpd"
        },
    ),
    case(
        "answers without a Date header",
        with_headers({}, drop=("Date",)),
        clock=("failure", "GET /v1/health answered HTTP 200 without a valid Date header"),
        rate_limit=("skipped", "needs Clock skew, which failed"),
        fixes={"clock": "A proxy in front of the API may drop the Date header: ask it"},
    ),
    # -- the rate limit -----------------------------------------------------------------------
    case("plenty of headroom", headroom(500, 600), rate_limit=("ok", "500 of 600 requests left")),
    case(
        "little headroom",
        headroom(12, 600),
        rate_limit=("warning", "12 of 600 requests left: close to the limit"),
        auth=("ok", "key and signature accepted; the API is healthy (2026.11.0)"),
        fixes={
            "rate-limit": "Cache prompts, batch renders, share one rate limiter between workers; "
            "check the plan's limit"
        },
    ),
    case(
        "a tenth left is not yet close",
        headroom(60, 600),
        rate_limit=("ok", "60 of 600 requests left"),
    ),
    case(
        "little headroom, in the older X-RateLimit fields",
        headroom(59, 600, fields="X-RateLimit-"),
        rate_limit=("warning", "59 of 600 requests left: close to the limit"),
    ),
    case(
        "rate limited",
        on_api(lambda api: api.rate_limit(times=LASTING, retry_after=60, path="/v1/client")),
        rate_limit=("failure", "RATE_LIMIT_ERROR: Rate limit exceeded; the API asks to wait 60 s"),
        auth=("skipped", "needs Rate limit, which failed"),
        fixes={
            "rate-limit": "Wait 60 s; then cache prompts, batch renders and share one rate "
            "limiter between workers"
        },
    ),
    # -- the key against the API, a prompt --------------------------------------------------------
    case(
        "a revoked key",
        on_api(lambda api: api.revoke_key(api.api_key)),
        rate_limit=("ok", "not limited (the API sends no remaining count)"),
        auth=("failure", "AUTHENTICATION_ERROR: Invalid API key or signature"),
        prompt=("skipped", "needs Authenticated health, which failed"),
        render=("skipped", "needs Authenticated health, which failed"),
        latency=("skipped", "needs Authenticated health, which failed"),
        fixes={
            "auth": "Check PROMPTOPS_API_KEY against the dashboard: revoked, or from another "
            "workspace?"
        },
    ),
    case(
        "the API's paths refuse connections",
        on_api(lambda api: api.connection_refused(times=LASTING, path="/v1/client")),
        api_paths=(
            "failure",
            "NETWORK_ERROR: Could not reach https://api.promptops.com: [Errno 111] Connection "
            "refused",
        ),
        rate_limit=("ok", "not limited (the API sends no remaining count)"),
        auth=(
            "failure",
            "NETWORK_ERROR: Could not reach https://api.promptops.com: [Errno 111] Connection "
            "refused",
        ),
    ),
    case(
        "the authenticated health failing",
        on_api(lambda api: api.server_error(times=LASTING, path="/v1/client/health")),
        api_paths=(
            "ok",
            "reachable: /v1/client/health HTTP 503, /v1/client/prompts HTTP 401 without a key",
        ),
        auth=("failure", "SERVER_ERROR: The server is temporarily unavailable"),
        fixes={"auth": "Read the error: the API answered, but not with its health"},
    ),
    case(
        "no prompts for this key",
        on_api(lambda api: api.prompts.clear()),
        prompt=("warning", "this key sees no prompts"),
        render=("skipped", "no prompt to render"),
        latency=("skipped", "no prompt to time"),
        fixes={"prompt": "Create a prompt, or check the key's workspace"},
    ),
    case(
        "prompts failing",
        on_api(lambda api: api.server_error(times=LASTING, path="/v1/client/prompts")),
        prompt=("failure", "SERVER_ERROR: The server is temporarily unavailable"),
        render=("skipped", "needs Prompt retrieval, which failed"),
        latency=("skipped", "needs Prompt retrieval, which failed"),
    ),
    case(
        "renders failing",
        on_api(lambda api: api.server_error(times=LASTING, path="/v1/client/prompts/hello-world/")),
        prompt=("ok", "hello-world v3 (the first of 3 listed)"),
        render=("failure", "SERVER_ERROR: The server is temporarily unavailable"),
        latency=("skipped", "needs Rendering, which failed"),
        fixes={"render": "Read the error: it names the prompt or the variable at fault"},
    ),
    # -- latency: the median of five is judged; the slowest is shown -----------------------
    case(
        "a slow API",
        on_api(lambda api: api.simulate_latency(1.2)),
        public_health=("ok", "GET /v1/health: HTTP 200 in 1200 ms"),
        latency=(
            "warning",
            "median 1200 ms, slowest 1200 ms uncached; median 0 ms cached (5 calls each): the "
            "median is over 1000 ms",
        ),
    ),
    case(
        "an API too slow to use",
        on_api(lambda api: api.simulate_latency(6)),
        options(deadline=300),
        latency=(
            "failure",
            "median 6000 ms, slowest 6000 ms uncached; median 0 ms cached (5 calls each): the "
            "median is over 5000 ms",
        ),
    ),
    case(
        "a second exactly is not slow yet",
        on_api(lambda api: api.simulate_latency(1.0)),
        latency=(
            "ok",
            "median 1000 ms, slowest 1000 ms uncached; median 0 ms cached (5 calls each)",
        ),
    ),
    case(
        "five seconds exactly is slow, not too slow",
        on_api(lambda api: api.simulate_latency(5.0)),
        options(deadline=300),
        latency=(
            "warning",
            "median 5000 ms, slowest 5000 ms uncached; median 0 ms cached (5 calls each): the "
            "median is over 1000 ms",
        ),
    ),
    case(
        "two slow calls of five are the slowest, not the median",
        slow_renders(3, 5, seconds=4),
        latency=("ok", "median 0 ms, slowest 4000 ms uncached; median 0 ms cached (5 calls each)"),
    ),
    case(
        "three slow calls of five are the median",
        slow_renders(2, 4, 6, seconds=4),
        latency=(
            "warning",
            "median 4000 ms, slowest 4000 ms uncached; median 0 ms cached (5 calls each): the "
            "median is over 1000 ms",
        ),
        fixes={
            "latency": "Profile your calls (promptops-profiler); cache prompts, reuse one client"
        },
    ),
]

# Paths a check cannot take: the checks of settings other than the proxy need nothing, so are
# never skipped; the network's checks and the API's answers either work or do not.
NO_SUCH_PATH = {
    *((check, "skipped") for check in ("api-key", "base-url", "ca-bundle")),
    *((check, "warning") for check in ("dns", "tcp", "public-health", "api-paths", "auth")),
    ("render", "warning"),
}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[LocalTLSServer]:
    """One TLS server for the module: it only completes handshakes, so runs can share it."""
    with tls_stand_in(HOST) as server:
        yield server


def run_case(world: World, stand_in: LocalTLSServer) -> Any:
    """The doctor's report in `world`: a stand-in of its own for a certificate of its own, a
    proxy stand-in where it needs one."""
    opts = dict(world.options)
    with ExitStack() as stack:
        if opts.get("connect_to") == NOTHING_LISTENS:
            opts["connect_to"] = ("127.0.0.1", stack.enter_context(refused_port()))
        valid_until = opts.pop("valid_until", None)
        if valid_until is not None:
            stand_in = stack.enter_context(tls_stand_in(HOST, valid_until=valid_until))
        if "proxy" in opts:
            tunnel_to = (stand_in.host, stand_in.port)
            proxy = stack.enter_context(in_a_thread(local_proxy(tunnel_to, **opts.pop("proxy"))))
            opts["connect_to"] = (proxy.host, proxy.port)
        return diagnose(world.clock, world.environ, stand_in=stand_in, **opts)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_check_finds_what_its_world_holds(
    case: Case, mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    world = World(mock_api, clock)
    case.setup(world)
    report = run_case(world, stand_in)
    found = by_id(report)
    assert {check: found[check].status for check in case.expect} == {
        check: status for check, (status, _) in case.expect.items()
    }, {check: found[check].detail for check in case.expect}
    for check, (_, text) in case.expect.items():
        detail = found[check].detail
        if text.startswith("..."):  # a figure that varies ahead of it
            assert detail.endswith(text.removeprefix("...")), f"{check}: {detail!r}"
        else:
            assert detail == text, f"{check}: {detail!r}"
    for finding in report.findings:  # a fix and a link under what did not pass, and only there
        assert (finding.fix is not None) == (finding.status in ("warning", "failure")), finding
    for check, fix in case.fixes.items():
        assert found[check].fix == fix
    assert "s3cret" not in str(report) + json.dumps(report.as_json())


def test_the_cases_take_every_check_down_every_path_it_has() -> None:
    taken = {(check, status) for c in CASES for check, (status, _) in c.expect.items()}
    every = {(check.id, status) for check in CHECKS for status in get_args(Status)}
    untaken = sorted(every - NO_SUCH_PATH - taken)
    assert not untaken, (
        "no case of CASES (tests/doctor/test_checks.py) takes these checks down these paths: "
        f"{untaken}. Add a case(...) for each to CASES (a world where the check ends so, and "
        "what each check reports), or, for a path the check cannot take, add it to "
        "NO_SUCH_PATH with the reason"
    )
    assert taken & NO_SUCH_PATH == set()


def test_the_tls_check_sends_connect_to_the_proxy_with_its_credentials(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """As httpx opens its tunnel: the API's host and port, and the proxy's login (Basic)."""
    with in_a_thread(local_proxy((stand_in.host, stand_in.port))) as proxy:
        environ = {**SETTINGS, "HTTPS_PROXY": PROXY}
        report = diagnose(clock, environ, stand_in=stand_in, connect_to=(proxy.host, proxy.port))
    assert by_id(report)["tls"].status == "ok"
    # The TCP check's connection sends nothing; the TLS check's sends CONNECT.
    login = base64.b64encode(b"alice:s3cret").decode()
    assert proxy.requests == [
        "CONNECT api.promptops.com:443 HTTP/1.1\r\nHost: api.promptops.com:443\r\n"
        f"Proxy-Authorization: Basic {login}\r\n\r\n"
    ]


def test_a_proxy_without_credentials_is_sent_none(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    with in_a_thread(local_proxy((stand_in.host, stand_in.port))) as proxy:
        environ = {**SETTINGS, "HTTPS_PROXY": "http://proxy.corp.example:3128"}
        diagnose(clock, environ, stand_in=stand_in, connect_to=(proxy.host, proxy.port))
    assert proxy.requests == [
        "CONNECT api.promptops.com:443 HTTP/1.1\r\nHost: api.promptops.com:443\r\n\r\n"
    ]


@pytest.mark.parametrize("installed", [False, True], ids=["without socksio", "with socksio"])
def test_a_socks_proxy_needs_the_socksio_package(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    monkeypatch: pytest.MonkeyPatch,
    installed: bool,
) -> None:
    """httpx speaks SOCKS only with `socksio` (`httpx[socks]`): without it the client cannot be
    made, so the proxy check fails and what needs it is skipped."""
    find_spec = importlib.util.find_spec

    def as_if(name: str, *args: Any) -> Any:
        if name == "socksio":
            return find_spec("json") if installed else None  # any module's spec: "found"
        return find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", as_if)
    environ = {**SETTINGS, "HTTPS_PROXY": "socks5://proxy.corp.example:1080"}
    report = diagnose(clock, environ, stand_in=stand_in)
    proxy, dns, tls = (by_id(report)[check] for check in ("proxy", "dns", "tls"))
    if installed:
        assert (proxy.status, proxy.detail) == (
            "ok",
            "requests to api.promptops.com go through socks5://proxy.corp.example:1080 "
            "(HTTPS_PROXY)",
        )
        assert tls.detail == (
            "through the socks5:// proxy proxy.corp.example:1080: Public health checks TLS end "
            "to end"
        )
    else:
        assert (proxy.status, proxy.detail) == (
            "failure",
            "HTTPS_PROXY names a SOCKS proxy ('socks5://proxy.corp.example:1080'), which needs "
            "the socksio package: pip install 'httpx[socks]'",
        )
        assert (dns.status, dns.detail) == ("skipped", "needs Proxy, which failed")


@pytest.mark.parametrize(
    ("environ", "address"),
    [
        ({}, ("api.promptops.com", 443)),
        ({"HTTPS_PROXY": "http://proxy.corp.example:3128"}, ("proxy.corp.example", 3128)),
        ({"https_proxy": "proxy.corp.example:3128"}, ("proxy.corp.example", 3128)),
        ({"ALL_PROXY": "http://alice:s3cret@proxy.corp.example"}, ("proxy.corp.example", 80)),
        ({"HTTP_PROXY": "http://proxy.corp.example:3128"}, ("api.promptops.com", 443)),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*"}, ("api.promptops.com", 443)),
        (
            {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "localhost,.promptops.com"},
            ("api.promptops.com", 443),
        ),
        (
            {"HTTPS_PROXY": "http://p.example:3128", "no_proxy": "promptops.com"},
            ("api.promptops.com", 443),
        ),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "example.org"}, ("p.example", 3128)),
        ({"all_proxy": "http://p.example:3128"}, ("p.example", 3128)),
        ({"HTTPS_PROXY": "https://p.example"}, ("p.example", 443)),
        ({"HTTPS_PROXY": "socks5://p.example"}, ("p.example", 1080)),
        # httpx reads `*.name` as no pattern at all: the proxy is used
        (
            {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "*.promptops.com"},
            ("p.example", 3128),
        ),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "ops.com"}, ("p.example", 3128)),
        (
            {"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "api.promptops.com"},
            ("api.promptops.com", 443),
        ),
        ({"HTTPS_PROXY": "http://p.example:3128", "NO_PROXY": "  "}, ("p.example", 3128)),
        ({"PROMPTOPS_BASE_URL": "http://localhost:8080"}, ("localhost", 8080)),
        (
            {"PROMPTOPS_BASE_URL": "http://localhost:8080", "HTTP_PROXY": "http://p.example:3128"},
            ("p.example", 3128),
        ),
        (
            {"PROMPTOPS_BASE_URL": "http://localhost:8080", "http_proxy": "p.example:8080"},
            ("p.example", 8080),
        ),
        (  # https only: not for http
            {"PROMPTOPS_BASE_URL": "http://localhost:8080", "HTTPS_PROXY": "http://p.example:3128"},
            ("localhost", 8080),
        ),
    ],
)
def test_dns_and_tcp_go_where_the_client_goes_the_api_or_its_proxy(
    environ: dict[str, str], address: tuple[str, int]
) -> None:
    with pytest.MonkeyPatch.context() as mp:  # no socksio needed to name the proxy's address
        mp.setattr(importlib.util, "find_spec", lambda name, *args: True)
        host, port, _ = route(CheckContext(environ))
    assert (host, port) == address


def test_an_unusable_proxy_is_no_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy check fails on it, and DNS and TCP, which need that check, are skipped."""
    with pytest.raises(ConfigurationError, match="HTTPS_PROXY is not a proxy URL"):
        route(CheckContext({"HTTPS_PROXY": "http://p.example:port"}))


def test_the_tcp_fix_names_the_port_and_proxy_variable_of_the_base_url(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    environ = {**SETTINGS, "PROMPTOPS_BASE_URL": "http://localhost:8080"}
    with refused_port() as port:
        report = diagnose(clock, environ, stand_in=stand_in, connect_to=("127.0.0.1", port))
    assert by_id(report)["tcp"].fix == (
        "Allow outbound connections to localhost:8080, or set HTTP_PROXY if the network "
        "requires a proxy"
    )


def test_the_fixes_name_the_base_url_s_host_whatever_the_other_settings(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """A CA bundle the client cannot load fails its own check; DNS and TCP do not need it, and
    their fix lines name the host the settings name."""
    environ = {
        **SETTINGS,
        "PROMPTOPS_BASE_URL": "https://api.eu.promptops.example:8443",
        "SSL_CERT_FILE": "/nonexistent/ca.pem",
    }
    with refused_port() as port:
        report = diagnose(clock, environ, stand_in=stand_in, connect_to=("127.0.0.1", port))
    ca_bundle, dns, tcp = (by_id(report)[check] for check in ("ca-bundle", "dns", "tcp"))
    assert (ca_bundle.status, dns.status, tcp.status) == ("failure", "ok", "failure")
    assert tcp.detail == "api.eu.promptops.example:8443: [Errno 111] Connection refused"
    assert tcp.fix == (
        "Allow outbound connections to api.eu.promptops.example:8443, or set HTTPS_PROXY if the "
        "network requires a proxy"
    )
    no_lookup = diagnose(clock, environ, stand_in=stand_in, resolve=no_dns)
    assert by_id(no_lookup)["dns"].fix == (
        "Check the host in PROMPTOPS_BASE_URL, and this machine's DNS: getent hosts "
        "api.eu.promptops.example"
    )


def test_a_429_is_reported_at_once_not_waited_out(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """The client would wait `retry_after` and retry; the doctor says what the API said."""
    mock_api.rate_limit(times=LASTING, retry_after=5, path="/v1/client")
    report = diagnose(clock, stand_in=stand_in)
    rate_limit = by_id(report)["rate-limit"]
    assert rate_limit.detail == "RATE_LIMIT_ERROR: Rate limit exceeded; the API asks to wait 5 s"
    assert rate_limit.fix == (
        "Wait 5 s; then cache prompts, batch renders and share one rate limiter between workers"
    )
    assert rate_limit.measurements == {"retry_after_seconds": 5}
    assert clock.sleeps == []
    with_key = [r.url.path for r in mock_api.requests if "Authorization" in r.headers]
    assert with_key == ["/v1/client/health"]


def test_a_429_without_a_wait_gets_the_check_s_own_fix(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    mock_api.rate_limit(times=LASTING, retry_after=None, path="/v1/client")
    rate_limit = by_id(diagnose(clock, stand_in=stand_in))["rate-limit"]
    assert rate_limit.detail == "RATE_LIMIT_ERROR: Rate limit exceeded"
    assert rate_limit.fix == (
        "Cache prompts, batch renders, share one rate limiter between workers; check the plan's "
        "limit"
    )
    assert rate_limit.measurements == {}


def test_a_429_asking_for_an_endless_wait_is_not_given_as_a_number(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    """`Retry-After: 1e999` is infinity: no wait to tell, no number for the JSON."""
    mock_api.rate_limit(times=LASTING, retry_after=None, path="/v1/client")
    with_headers({"Retry-After": "1e999"})(World(mock_api, clock))
    report = diagnose(clock, stand_in=stand_in)
    rate_limit = by_id(report)["rate-limit"]
    assert rate_limit.detail == "RATE_LIMIT_ERROR: Rate limit exceeded"
    assert rate_limit.fix == (
        "Cache prompts, batch renders, share one rate limiter between workers; check the plan's "
        "limit"
    )
    assert rate_limit.measurements == {}
    json.dumps(report.as_json(), allow_nan=False)


def test_the_rate_limit_headroom_is_measured_for_monitoring(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    headroom(12, 600)(World(mock_api, clock))
    rate_limit = by_id(diagnose(clock, stand_in=stand_in))["rate-limit"]
    assert rate_limit.measurements == {"remaining": 12.0, "limit": 600.0}


@pytest.mark.parametrize(
    ("fields", "detail", "measurements"),
    [
        (
            {"RateLimit-Limit": "100", "RateLimit-Remaining": "50, 40;w=1"},
            "50 of 100 requests left",
            {"remaining": 50.0, "limit": 100.0},
        ),
        (
            {"RateLimit-Limit": "100;w=60", "RateLimit-Remaining": "50;w=60"},
            "50 of 100 requests left",
            {"remaining": 50.0, "limit": 100.0},
        ),
        ({"RateLimit-Remaining": "50"}, "not limited (the API sends no remaining count)", {}),
        (
            {"RateLimit-Limit": "0", "RateLimit-Remaining": "0"},
            "not limited (the API sends no remaining count)",
            {},
        ),
        (
            {"RateLimit-Limit": "100", "RateLimit-Remaining": "NaN"},
            "not limited (the API sends no remaining count)",
            {},
        ),
        (
            {"RateLimit-Limit": "inf", "RateLimit-Remaining": "5"},
            "not limited (the API sends no remaining count)",
            {},
        ),
        (
            {"RateLimit-Limit": "-inf", "RateLimit-Remaining": "1e999"},
            "not limited (the API sends no remaining count)",
            {},
        ),
        (
            {
                "RateLimit-Limit": "nan",
                "RateLimit-Remaining": "inf",
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "50",
            },
            "50 of 100 requests left",
            {"remaining": 50.0, "limit": 100.0},
        ),
        (
            {"RateLimit-Limit": "a hundred", "RateLimit-Remaining": ""},
            "not limited (the API sends no remaining count)",
            {},
        ),
    ],
    ids=[
        "a list of windows",
        "with parameters",
        "no limit",
        "a limit of 0",
        "NaN remaining",
        "an infinite limit",
        "infinities",
        "the older fields where the newer are not numbers",
        "words",
    ],
)
def test_the_rate_limit_fields_are_read_as_the_ietf_draft_writes_them_and_only_finite(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    fields: dict[str, str],
    detail: str,
    measurements: dict[str, float],
) -> None:
    """The first window of a list, the number before its parameters; no limit, no share; NaN
    and infinities are no count at all, and never reach the JSON."""
    with_headers(fields)(World(mock_api, clock))
    report = diagnose(clock, stand_in=stand_in)
    rate_limit = by_id(report)["rate-limit"]
    assert (rate_limit.status, rate_limit.detail) == ("ok", detail)
    assert rate_limit.measurements == measurements
    assert all(math.isfinite(v) for v in rate_limit.measurements.values() if v is not None)
    json.dumps(report.as_json(), allow_nan=False)


def test_the_latency_median_and_slowest_are_measured_for_monitoring(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    mock_api.simulate_latency(1.23456)  # to a tenth of a millisecond: 1234.6
    slow_renders(4, seconds=1)(World(mock_api, clock))
    latency = by_id(diagnose(clock, stand_in=stand_in))["latency"]
    assert latency.measurements == {
        "uncached_p50_ms": 1234.6,
        "uncached_max_ms": 2234.6,
        "cached_p50_ms": 0.0,
        "cached_max_ms": 0.0,
    }


def test_the_latency_check_times_five_renders_and_five_fetches_from_the_cache(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer
) -> None:
    diagnose(clock, stand_in=stand_in)
    paths = [f"{r.method} {r.url.path}" for r in mock_api.requests]
    # The Rendering check's render, then the latency check's five; no fetch after the first.
    assert paths.count("POST /v1/client/prompts/hello-world/render") == 1 + 5
    assert paths.count("GET /v1/client/prompts/hello-world") == 1


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_tls_check_trusts_the_cas_the_client_would(
    mock_api: MockPromptOpsAPI,
    clock: FakeClock,
    stand_in: LocalTLSServer,
    tmp_path: Path,
    variable: str,
) -> None:
    """httpx reads `SSL_CERT_FILE`, else `SSL_CERT_DIR` (files named by subject hash)."""
    (tmp_path / "company-ca.pem").write_bytes(stand_in.ca_pem)
    if variable == "SSL_CERT_DIR":
        subprocess.run(["openssl", "rehash", str(tmp_path)], check=True, capture_output=True)
    where = tmp_path / "company-ca.pem" if variable == "SSL_CERT_FILE" else tmp_path
    report = diagnose(clock, {**SETTINGS, variable: str(where)}, stand_in=stand_in, trusted=False)
    assert by_id(report)["tls"].status == "ok"
    ca_bundle = by_id(report)["ca-bundle"]
    if variable == "SSL_CERT_FILE":  # one CA alone: every other site would fail
        assert (ca_bundle.status, ca_bundle.detail) == (
            "warning",
            f"SSL_CERT_FILE={where} (1 CAs); it holds 1 CA certificate: SSL_CERT_FILE replaces "
            "the public CAs; a company's CA alone fails every other site",
        )
    else:
        assert (ca_bundle.status, ca_bundle.detail) == ("ok", f"SSL_CERT_DIR={where}")


def test_a_ca_file_that_holds_no_certificate_fails_the_ca_bundle_check(
    mock_api: MockPromptOpsAPI, clock: FakeClock, stand_in: LocalTLSServer, tmp_path: Path
) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    environ = {**SETTINGS, "SSL_CERT_FILE": str(tmp_path / "ca.pem")}
    report = diagnose(clock, environ, stand_in=stand_in, trusted=False)
    ca_bundle, tls = by_id(report)["ca-bundle"], by_id(report)["tls"]
    assert ca_bundle.status == "failure"
    assert ca_bundle.detail.startswith(
        f"SSL_CERT_FILE='{tmp_path / 'ca.pem'}' cannot be loaded: [X509: NO_CERTIFICATE_OR_CRL"
    )
    assert (tls.status, tls.detail) == ("skipped", "needs CA bundle, which failed")
