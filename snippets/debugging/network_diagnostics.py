"""Network diagnostics: can this machine reach the PromptOps API? DNS, TCP,
TLS and HTTP, each on its own, the way the client goes: through the proxy it
would use, trusting the CAs it trusts.

    promptops-network-diagnostics
    promptops-network-diagnostics --mock  # the mock API this package bundles
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx

from snippets.checks import Check, CheckContext, Outcome, Report, run_checks
from snippets.cli import run_check_tool
from snippets.client import describe_transport_error
from snippets.client.redaction import printable
from snippets.client.settings import read_base_url, read_proxy

WARN_DAYS = 14  # a certificate that expires sooner is a warning
ANSWER_LIMIT = 8 * 1024  # bytes of a proxy's answer to CONNECT read, at most


def route(ctx: CheckContext) -> tuple[str, int, str]:
    """The host and port the client opens connections to, and how to name
    them: the API's, or the proxy's it goes through. Only these two settings
    are read: DNS and TCP do not need the CAs to be usable."""
    base_url = read_base_url(ctx.environ).value
    proxy = read_proxy(ctx.environ, base_url).value
    if proxy is not None:
        host, port = proxy.address
        return (
            host,
            port,
            f"{_address(host, port)} (the proxy, {proxy.variable})",
        )
    url = httpx.URL(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.host, port, _address(url.host, port)


def _address(host: str, port: int) -> str:
    """`host:port`, an IPv6 address in brackets: `[::1]:3128`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def dns(ctx: CheckContext) -> Outcome:
    host, _, _ = route(ctx)
    try:
        addresses = await ctx.network.resolve(host)
    except OSError as exc:
        return Outcome("failure", f"{host} does not resolve: {exc}")
    return Outcome("ok", f"{host} resolves to {', '.join(addresses)}")


async def tcp(ctx: CheckContext) -> Outcome:
    host, port, shown = route(ctx)
    try:
        _, writer = await asyncio.open_connection(
            *(ctx.network.connect_to or (host, port))
        )
    except OSError as exc:
        return Outcome("failure", f"{shown}: {describe_transport_error(exc)}")
    writer.close()
    return Outcome("ok", f"{shown} accepts connections")


class ProxyRefused(Exception):
    """The proxy answered CONNECT with something other than 200."""


async def tls(ctx: CheckContext) -> Outcome:
    settings = ctx.settings(require_key=False)
    url = httpx.URL(settings.base_url.value)
    if url.scheme != "https":
        return Outcome("skipped", "not used: the base URL is plain http")
    proxy = settings.proxy.value
    scheme = httpx.URL(proxy.url).scheme if proxy is not None else None
    if proxy is not None and scheme != "http":  # no CONNECT tunnel to open
        return Outcome(
            "skipped",
            f"through the {scheme}:// proxy {_address(*proxy.address)}: "
            "Public health checks TLS end to end",
        )
    port = url.port or 443
    trusted = ctx.network.tls_context or settings.trust.value.context()
    try:
        writer = await _tls_connection(ctx, url.host, port, trusted)
    except ProxyRefused as exc:
        return refused(ctx, f"{url.host}:{port}", exc)
    except ssl.SSLCertVerificationError as exc:  # what failed, without the
        # line of OpenSSL's source that said so
        return Outcome("failure", f"{exc.reason}: {exc.verify_message}")
    except OSError as exc:  # ssl.SSLError is an OSError
        return Outcome("failure", describe_transport_error(exc))
    cert = writer.get_extra_info("peercert")
    writer.close()
    subject = dict(item[0] for item in cert["subject"])
    issuer = dict(item[0] for item in cert["issuer"])
    expires = datetime.fromtimestamp(
        ssl.cert_time_to_seconds(cert["notAfter"]), UTC
    )
    days_left = int((expires.timestamp() - ctx.clock.time()) // 86400)
    detail = (  # names in a certificate are the server's text: shown escaped
        f"{printable(str(subject.get('commonName')))}, issued by "
        f"{printable(str(issuer.get('organizationName')))}, "
        f"expires {expires:%Y-%m-%d} ({days_left} days left)"
        + (" through the proxy" if proxy else "")
    )
    if days_left < WARN_DAYS:
        return Outcome("warning", detail)
    return Outcome("ok", detail)


def refused(ctx: CheckContext, target: str, said: ProxyRefused) -> Outcome:
    """The proxy did not open the tunnel: which proxy, what it said, and
    what to do about it."""
    _, _, via = route(ctx)
    variable = ctx.settings(require_key=False).proxy.source
    fix = (
        f"The proxy in {variable} did not let the connection through: a 407 "
        "wants the proxy's credentials in that URL "
        "(http://user:password@host:port); otherwise ask its admins to allow "
        f"CONNECT to {target}"
    )
    detail = f"{via} did not open a tunnel to {target}: {said}"
    return Outcome("failure", detail, fix)


async def _tls_connection(
    ctx: CheckContext, host: str, port: int, trusted: ssl.SSLContext
) -> asyncio.StreamWriter:
    """A verified TLS connection to `host:port`, as the client opens it:
    direct, or through an http:// proxy's tunnel (CONNECT)."""
    proxy = ctx.settings(require_key=False).proxy.value
    if proxy is None:
        target = ctx.network.connect_to or (host, port)
        _, writer = await asyncio.open_connection(
            *target, ssl=trusted, server_hostname=host
        )
        return writer
    reader, writer = await asyncio.open_connection(
        *(ctx.network.connect_to or proxy.address), limit=ANSWER_LIMIT
    )
    try:
        parsed = httpx.URL(proxy.url)
        request = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        if parsed.username or parsed.password:
            login = f"{parsed.username}:{parsed.password}".encode()
            basic = base64.b64encode(login).decode()
            request += f"Proxy-Authorization: Basic {basic}\r\n"
        writer.write(f"{request}\r\n".encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            raise ProxyRefused("no HTTP answer to CONNECT") from None
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if status_line.split(" ")[1:2] != ["200"]:
            raise ProxyRefused(printable(status_line, 200))
        await writer.start_tls(trusted, server_hostname=host)
    except BaseException:
        writer.close()
        raise
    return writer


async def public_health(ctx: CheckContext) -> Outcome:
    client = await ctx.client(require_key=False)
    probe = await client.probe("/v1/health")
    shown = (
        f"GET /v1/health: HTTP {probe.status} in {probe.elapsed * 1000:.0f} ms"
    )
    if not probe.is_envelope:
        kind = probe.content_type or "no content type"
        return Outcome(
            "failure", f"{shown}, not a PromptOps answer ({kind}): a proxy's?"
        )
    if probe.status >= 500:
        return Outcome("failure", f"{shown}: the API failed ({probe.code})")
    if probe.status >= 400:
        return Outcome("failure", f"{shown}: refused ({probe.code})")
    return Outcome("ok", shown)


API_PATHS = ("/v1/client/health", "/v1/client/prompts")


async def api_paths(ctx: CheckContext) -> Outcome:
    """Without the key, the API's own paths answer 401 in its envelope: they
    are reachable. A proxy that blocks them answers something else."""
    client = await ctx.client(require_key=False)
    statuses = []
    for path in API_PATHS:
        probe = await client.probe(path)
        if not probe.is_envelope:
            kind = probe.content_type or "no content type"
            return Outcome(
                "failure",
                f"GET {path}: HTTP {probe.status}, not a PromptOps answer "
                f"({kind}): blocked on the way?",
            )
        statuses.append(f"{path} HTTP {probe.status}")
    return Outcome("ok", f"reachable: {', '.join(statuses)} without a key")


CHECKS = (
    Check(
        "dns",
        "DNS",
        dns,
        fix="Check the host in PROMPTOPS_BASE_URL, and this machine's DNS: "
        "getent hosts {host}",
        section="common-issues/#network_error-could-not-reach-"
        "httpsapipromptopscom",
        what="The host the client connects to resolves: the API's, or the "
        "proxy's it goes through.",
        needs=("base-url", "proxy"),
    ),
    Check(
        "tcp",
        "TCP connect",
        tcp,
        fix="Allow outbound connections to {host}:{port}, or set "
        "{proxy_variable} if the network requires a proxy",
        section="common-issues/#network_error-could-not-reach-"
        "httpsapipromptopscom",
        what="A TCP connection to it opens: no firewall or closed port in "
        "the way.",
        needs=("dns",),
    ),
    Check(
        "tls",
        "TLS",
        tls,
        fix="Behind a proxy that inspects HTTPS, add its CA to the bundle in "
        "SSL_CERT_FILE; never turn verification off",
        section="common-issues/#tls-certificate_verify_failed",
        what="The API's certificate, through the proxy's tunnel if there is "
        "one, verifies for its host name with the CAs the client trusts, and "
        "does not expire within 14 days.",
        needs=("tcp", "ca-bundle"),
    ),
    Check(
        "public-health",
        "Public health",
        public_health,
        fix="Check status.promptops.com; if a proxy answered instead, check "
        "its allow-list",
        section="debugging/#network-diagnostics",
        what="`GET /v1/health` (no key), sent by the client the way it sends "
        "every call, answers a PromptOps JSON envelope that is not an error.",
        needs=("tls",),
    ),
    Check(
        "api-paths",
        "API paths",
        api_paths,
        fix="Ask the proxy's admins to allow {host}/v1/client/ as a whole",
        section="debugging/#network-diagnostics",
        what="`GET /v1/client/health` and `/v1/client/prompts` without the "
        "key answer in the API's envelope (401): nothing blocks them.",
        needs=("public-health",),
    ),
)


async def diagnose_network(
    environ: Mapping[str, str] | None = None,
) -> Report:
    """Every check, for the settings in `environ` (`os.environ` if None)."""
    ctx = CheckContext(os.environ if environ is None else environ)
    return await run_checks("network-diagnostics", CHECKS, ctx)


def main(argv: list[str] | None = None) -> int:
    return run_check_tool("network-diagnostics", CHECKS, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
