"""Network diagnostics: can this machine reach the PromptOps API? DNS, HTTP and TLS, separately.

python -m snippets.debugging.network_diagnostics          # the API the client would use
python -m snippets.debugging.network_diagnostics --mock   # mock API, local TLS server
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from snippets.cli import run_script
from snippets.client import BASE_URL_ENV, DEFAULT_BASE_URL
from snippets.client.clock import Clock, default_clock

Resolver = Callable[[str], Awaitable[list[str]]]


@dataclass(frozen=True)
class Check:
    status: Literal["PASS", "WARN", "FAIL"]
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status}  {self.name}: {self.detail}"


async def system_resolver(host: str) -> list[str]:
    """The addresses the operating system resolves `host` to (what httpx will use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_dns(hosts: Sequence[str], resolve: Resolver = system_resolver) -> list[Check]:
    checks = []
    for host in hosts:
        try:
            addresses = await resolve(host)
            checks.append(Check("PASS", f"DNS {host}", ", ".join(addresses)))
        except OSError as exc:
            checks.append(Check("FAIL", f"DNS {host}", str(exc)))
    return checks


async def check_http(
    base_url: str, paths: Sequence[str], *, clock: Clock | None = None
) -> list[Check]:
    """GET each path without a key: any PromptOps answer, even 401, proves the path is open."""
    clock = clock or default_clock()
    checks = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for path in paths:
            start = clock.monotonic()
            try:
                response = await http.get(path)
            except httpx.HTTPError as exc:
                checks.append(Check("FAIL", f"GET {path}", f"{type(exc).__name__}: {exc}"))
                continue
            elapsed_ms = (clock.monotonic() - start) * 1000
            detail = f"HTTP {response.status_code} in {elapsed_ms:.0f} ms"
            is_promptops = "application/json" in response.headers.get("content-type", "")
            if response.status_code >= 500 or not is_promptops:
                checks.append(Check("FAIL", f"GET {path}", f"{detail}, not a PromptOps answer"))
            elif response.status_code == 401:
                checks.append(Check("PASS", f"GET {path}", f"{detail}, reachable (needs a key)"))
            else:
                checks.append(Check("PASS", f"GET {path}", detail))
    return checks


async def check_tls(
    hostname: str,
    port: int = 443,
    *,
    connect_to: str | None = None,
    context: ssl.SSLContext | None = None,
    clock: Clock | None = None,
    warn_days: int = 14,
) -> Check:
    """Connect, verify the certificate for `hostname`, and report who issued it and its expiry."""
    clock = clock or default_clock()
    context = context or ssl.create_default_context()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(
                connect_to or hostname, port, ssl=context, server_hostname=hostname
            ),
            timeout=10,
        )
    except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
        return Check("FAIL", f"TLS {hostname}", str(exc))
    cert = writer.get_extra_info("peercert")
    writer.close()
    subject = dict(item[0] for item in cert["subject"])
    issuer = dict(item[0] for item in cert["issuer"])
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)
    days_left = int((expires.timestamp() - clock.time()) // 86400)
    detail = (
        f"{subject.get('commonName')}, issued by {issuer.get('organizationName')}, "
        f"expires {expires:%Y-%m-%d} ({days_left} days left)"
    )
    return Check("WARN" if days_left < warn_days else "PASS", f"TLS {hostname}", detail)


PATHS = ("/v1/health", "/v1/client/health", "/v1/client/prompts")


async def run_network_diagnostics(
    *,
    base_url: str | None = None,
    resolve: Resolver = system_resolver,
    tls_port: int | None = None,
    tls_connect_to: str | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> int:
    """Check the host, port and scheme the client would use (`PROMPTOPS_BASE_URL`, else the
    default API), print every check and return 1 if any failed. A failing check does not stop
    the others; TLS is checked when the URL is https."""
    url = httpx.URL(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
    checks = [*await check_dns([url.host], resolve), *await check_http(str(url), PATHS)]
    if url.scheme == "https":
        port = tls_port or url.port or 443
        checks.append(
            await check_tls(url.host, port, connect_to=tls_connect_to, context=tls_context)
        )
    for check in checks:
        print(check)
    failed = sum(check.status == "FAIL" for check in checks)
    print(
        f"{failed} of {len(checks)} checks failed" if failed else f"All {len(checks)} checks passed"
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return run_script("network-diagnostics", run_network_diagnostics, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
