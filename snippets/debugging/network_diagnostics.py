"""Network diagnostics: can this machine reach the PromptOps API? DNS, TCP,
HTTP and TLS, separately, for the URL the client would use.

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.debugging.network_diagnostics
    python -m snippets.debugging.network_diagnostics --mock
"""

from __future__ import annotations

import asyncio
import json
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
from snippets.client import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    check_base_url,
    describe_transport_error,
)
from snippets.client.clock import SYSTEM_CLOCK, Clock
from snippets.client.redaction import printable

Resolver = Callable[[str], Awaitable[list[str]]]


TIME_LIMIT = 10.0  # seconds for each check, whatever the network does
BODY_LIMIT = 64 * 1024  # bytes of a body read: a health answer is a few dozen


@dataclass(frozen=True)
class Check:
    status: Literal["PASS", "WARN", "FAIL"]
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status}  {self.name}: {self.detail}"


async def system_resolver(host: str) -> list[str]:
    """The addresses the operating system resolves `host` to (what httpx will
    use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, 443, type=socket.SOCK_STREAM
    )
    return sorted({str(info[4][0]) for info in infos})


async def check_dns(
    hosts: Sequence[str],
    resolve: Resolver = system_resolver,
    *,
    time_limit: float = TIME_LIMIT,
) -> list[Check]:
    checks = []
    for host in hosts:
        try:
            async with asyncio.timeout(time_limit):
                addresses = await resolve(host)
            checks.append(Check("PASS", f"DNS {host}", ", ".join(addresses)))
        except TimeoutError:
            checks.append(
                Check(
                    "FAIL", f"DNS {host}", f"no answer within {time_limit:g} s"
                )
            )
        except OSError as exc:
            checks.append(Check("FAIL", f"DNS {host}", printable(str(exc))))
    return checks


async def check_tcp(
    host: str,
    port: int = 443,
    *,
    connect_to: tuple[str, int] | None = None,
    time_limit: float = TIME_LIMIT,
) -> Check:
    """Open a TCP connection to `host:port` (to `connect_to`, a host and port
    standing in for it, if given), and close it: a firewall or a closed port
    fails here, before any TLS."""
    try:
        async with asyncio.timeout(time_limit):
            _, writer = await asyncio.open_connection(
                *(connect_to or (host, port))
            )
    except TimeoutError:
        return Check(
            "FAIL",
            f"TCP {host}:{port}",
            f"no connection within {time_limit:g} s",
        )
    except OSError as exc:
        detail = printable(describe_transport_error(exc))
        return Check("FAIL", f"TCP {host}:{port}", detail)
    writer.close()
    return Check("PASS", f"TCP {host}:{port}", "accepts connections")


async def check_http(
    base_url: str,
    paths: Sequence[str],
    *,
    clock: Clock = SYSTEM_CLOCK,
    time_limit: float = TIME_LIMIT,
    read_body: bool = False,
    verify: ssl.SSLContext | bool = True,
) -> list[Check]:
    """GET each path without a key: any PromptOps answer, even 401, proves the
    path is open.

    Only the status line and headers are read, each GET within `time_limit`
    seconds; with `read_body`, the whole answer too, which must be a PromptOps
    JSON envelope of at most `BODY_LIMIT` bytes (a server that trickles its
    body fails then). `verify`: the CAs to trust, as httpx takes them.
    """
    checks = []
    async with httpx.AsyncClient(
        base_url=base_url, timeout=time_limit, verify=verify
    ) as http:
        for path in paths:
            start = clock.monotonic()
            try:
                async with (
                    asyncio.timeout(time_limit),
                    http.stream("GET", path) as response,
                ):
                    status = response.status_code
                    content_type = response.headers.get("content-type", "")
                    body = await _body(response) if read_body else None
            except TimeoutError:
                checks.append(
                    Check(
                        "FAIL",
                        f"GET {path}",
                        f"no answer within {time_limit:g} s",
                    )
                )
                continue
            except httpx.HTTPError as exc:
                error = printable(
                    f"{type(exc).__name__}: {describe_transport_error(exc)}"
                )
                checks.append(Check("FAIL", f"GET {path}", error))
                continue
            elapsed_ms = (clock.monotonic() - start) * 1000
            detail = f"HTTP {status} in {elapsed_ms:.0f} ms"
            if "application/json" not in content_type:
                checks.append(
                    Check(
                        "FAIL",
                        f"GET {path}",
                        f"{detail}, not a PromptOps answer",
                    )
                )
            elif status >= 500:
                checks.append(
                    Check("FAIL", f"GET {path}", f"{detail}, the API failed")
                )
            elif read_body and not _is_envelope(body):
                problem = (
                    f"over {BODY_LIMIT // 1024} KiB"
                    if body is None
                    else "not a PromptOps JSON envelope"
                )
                checks.append(
                    Check("FAIL", f"GET {path}", f"{detail}, a body {problem}")
                )
            elif status == 401:
                checks.append(
                    Check(
                        "PASS",
                        f"GET {path}",
                        f"{detail}, reachable (needs a key)",
                    )
                )
            else:
                checks.append(Check("PASS", f"GET {path}", detail))
    return checks


async def _body(response: httpx.Response) -> bytes | None:
    """The body, or None once it passes `BODY_LIMIT` (the rest is not read)."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > BODY_LIMIT:
            return None
    return body


def _is_envelope(body: bytes | None) -> bool:
    """`{"success": true|false, ...}`, as every PromptOps answer is."""
    try:
        answer = json.loads(body or b"")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep
        return False
    return isinstance(answer, dict) and isinstance(answer.get("success"), bool)


async def check_tls(
    hostname: str,
    port: int = 443,
    *,
    connect_to: str | None = None,
    context: ssl.SSLContext | None = None,
    clock: Clock = SYSTEM_CLOCK,
    warn_days: int = 14,
    time_limit: float = TIME_LIMIT,
) -> Check:
    """Connect, verify the certificate for `hostname`, and report who issued it
    and its expiry."""
    context = context or ssl.create_default_context()
    try:
        async with asyncio.timeout(time_limit):
            _, writer = await asyncio.open_connection(
                connect_to or hostname,
                port,
                ssl=context,
                server_hostname=hostname,
            )
    except TimeoutError:
        return Check(
            "FAIL", f"TLS {hostname}", f"no handshake within {time_limit:g} s"
        )
    except ssl.SSLCertVerificationError as exc:  # what failed, without the
        # line of OpenSSL's source that said so
        detail = f"{exc.reason}: {exc.verify_message}"
        return Check("FAIL", f"TLS {hostname}", printable(detail))
    except OSError as exc:  # ssl.SSLError is an OSError
        return Check("FAIL", f"TLS {hostname}", printable(str(exc)))
    cert = writer.get_extra_info("peercert")
    writer.close()
    subject = dict(item[0] for item in cert["subject"])
    issuer = dict(item[0] for item in cert["issuer"])
    expires = datetime.fromtimestamp(
        ssl.cert_time_to_seconds(cert["notAfter"]), UTC
    )
    days_left = int((expires.timestamp() - clock.time()) // 86400)
    detail = (  # names in a certificate are the server's text: shown escaped
        f"{printable(str(subject.get('commonName')))}, issued by "
        f"{printable(str(issuer.get('organizationName')))}, "
        f"expires {expires:%Y-%m-%d} ({days_left} days left)"
    )
    return Check(
        "WARN" if days_left < warn_days else "PASS", f"TLS {hostname}", detail
    )


PATHS = ("/v1/health", "/v1/client/health", "/v1/client/prompts")


async def run_network_diagnostics(
    *,
    base_url: str | None = None,
    resolve: Resolver = system_resolver,
    connect_to: tuple[str, int] | None = None,
    tls_context: ssl.SSLContext | None = None,
    time_limit: float = TIME_LIMIT,
) -> int:
    """Print every check; return 1 if any failed. A failing check does not stop
    the others.

    Checks the host, port and scheme the client would use: `base_url`, else
    `PROMPTOPS_BASE_URL`, else the default. The TCP and TLS checks connect to
    `connect_to` (host, port) instead, if given: a server standing in for it.
    """
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL)
    try:
        url = httpx.URL(check_base_url(base_url, BASE_URL_ENV))
    except ValueError as exc:  # ConfigurationError: nothing to test
        print(f"FAIL  Configuration: {exc}")
        return 1
    port = url.port or (443 if url.scheme == "https" else 80)
    checks = [
        *await check_dns([url.host], resolve, time_limit=time_limit),
        await check_tcp(
            url.host, port, connect_to=connect_to, time_limit=time_limit
        ),
        *await check_http(str(url), PATHS, time_limit=time_limit),
    ]
    if url.scheme == "https":
        tls_host, tls_port = connect_to or (url.host, port)
        checks.append(
            await check_tls(
                url.host,
                tls_port,
                connect_to=tls_host,
                context=tls_context,
                time_limit=time_limit,
            )
        )
    else:
        checks.append(
            Check(
                "WARN",
                f"TLS {url.host}",
                "not used: the base URL is plain http",
            )
        )
    for check in checks:
        print(check)
    failed = sum(check.status == "FAIL" for check in checks)
    warned = sum(check.status == "WARN" for check in checks)
    if failed:
        print(f"{failed} of {len(checks)} checks failed")
    elif warned:
        print(f"{len(checks)} checks: none failed, {warned} with a warning")
    else:
        print(f"All {len(checks)} checks passed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return run_script(
        "network-diagnostics", run_network_diagnostics, __doc__, argv
    )


if __name__ == "__main__":
    sys.exit(main())
