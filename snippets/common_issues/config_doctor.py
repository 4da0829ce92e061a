"""Configuration doctor: reads the environment and the client settings,
reports each problem.

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.common_issues.config_doctor
    python -m snippets.common_issues.config_doctor --mock
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from snippets.cli import run_script
from snippets.client import (
    DEFAULT_BASE_URL,
    ConfigurationError,
    PromptOpsClient,
    check_base_url,
)


@dataclass(frozen=True)
class Finding:
    level: Literal["OK", "WARN", "ERROR"]
    topic: str
    message: str


def proxy_for(base_url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy httpx sends requests for `base_url` through, as it reads
    `environ`: `HTTPS_PROXY` (`HTTP_PROXY` for http), else `ALL_PROXY`; none
    if `NO_PROXY` names the host. As set, credentials included: not for
    printing."""
    url = httpx.URL(base_url)
    names = (
        ("HTTPS_PROXY", "https_proxy")
        if url.scheme == "https"
        else ("HTTP_PROXY", "http_proxy")
    )
    proxy = next(
        (
            environ[n]
            for n in (*names, "ALL_PROXY", "all_proxy")
            if environ.get(n)
        ),
        None,
    )
    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
    entries = [e.strip().lower() for e in no_proxy.split(",") if e.strip()]
    if any(_exempts(entry, url.host.lower()) for entry in entries):
        return None
    return proxy


def _without_no_proxy(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k.upper() != "NO_PROXY"}


def _exempts(entry: str, host: str) -> bool:
    """Whether a `NO_PROXY` entry sends `host` direct, as httpx reads it: `*`
    every host, `name` that host and its subdomains, `.name` its subdomains
    only. Nothing else: not `*.name`, not a suffix inside a label."""
    if entry == "*":
        return True
    if entry.startswith("."):
        return host.endswith(entry)
    return host == entry or host.endswith(f".{entry}")


def diagnose(
    environ: Mapping[str, str], **client_settings: Any
) -> list[Finding]:
    """Check the PromptOps environment variables, proxy and TLS settings, and
    client settings."""
    findings: list[Finding] = []

    def report(
        level: Literal["OK", "WARN", "ERROR"], topic: str, message: str
    ) -> None:
        findings.append(Finding(level, topic, message))

    # The API key: set, clean, and shaped like a PromptOps key. Never print it.
    key = environ.get("PROMPTOPS_API_KEY")
    if not key:
        report("ERROR", "API key", "PROMPTOPS_API_KEY is not set")
    elif key != key.strip() or key[0] in "'\"":
        report(
            "ERROR",
            "API key",
            "PROMPTOPS_API_KEY has spaces or quotes around it",
        )
    elif any(
        char.isspace() or not char.isprintable() or not char.isascii()
        for char in key
    ):
        report(
            "ERROR",
            "API key",
            "PROMPTOPS_API_KEY has a space, line break, control or non-ASCII "
            "character inside",
        )
    elif not key.startswith("po_"):
        report(
            "WARN", "API key", "PROMPTOPS_API_KEY does not start with 'po_'"
        )
    else:
        report(
            "OK",
            "API key",
            f"PROMPTOPS_API_KEY is set ({len(key)} characters)",
        )

    # The endpoint: the API root over HTTPS. Shown without any user, password
    # or query.
    endpoint = environ.get("PROMPTOPS_BASE_URL")
    # For the client settings below, if the variable is unusable:
    base_url = DEFAULT_BASE_URL
    if endpoint is None:
        report("OK", "Endpoint", f"default ({DEFAULT_BASE_URL})")
    elif not endpoint:
        report(
            "ERROR",
            "Endpoint",
            "PROMPTOPS_BASE_URL is empty: unset it for the default",
        )
    else:
        try:  # the client's own check, so the doctor and the client agree
            base_url = check_base_url(endpoint, "PROMPTOPS_BASE_URL")
        except ConfigurationError as exc:
            report("ERROR", "Endpoint", str(exc))
        else:
            url = httpx.URL(base_url)
            if url.path.rstrip("/"):
                path = (
                    f"PROMPTOPS_BASE_URL has a path ({url.path}); use the root"
                )
                report("WARN", "Endpoint", path)
            elif url.scheme == "http" and url.host not in (
                "localhost",
                "127.0.0.1",
            ):
                plain = (
                    "PROMPTOPS_BASE_URL is plain http: keys travel unencrypted"
                )
                report("WARN", "Endpoint", plain)
            else:
                report("OK", "Endpoint", base_url)

    # Proxies: the one httpx would use for the API's host, if any.
    host = httpx.URL(base_url).host
    proxy = proxy_for(base_url, environ)
    if proxy:
        proxy_url = httpx.URL(proxy).copy_with(username=None, password=None)
        report(
            "WARN",
            "Proxy",
            f"requests go through {proxy_url}: check it allows {host}",
        )
    elif proxy_for(base_url, _without_no_proxy(environ)):
        report("OK", "Proxy", f"none: NO_PROXY sends {host} direct")
    else:
        report("OK", "Proxy", "none")

    # TLS: a custom CA bundle must exist; httpx ignores the requests library's
    # variable.
    cert_file = environ.get("SSL_CERT_FILE")
    if cert_file and not Path(cert_file).is_file():
        report(
            "ERROR",
            "TLS",
            f"SSL_CERT_FILE points to a missing file: {cert_file}",
        )
    elif environ.get("REQUESTS_CA_BUNDLE") and not cert_file:
        report(
            "WARN",
            "TLS",
            "REQUESTS_CA_BUNDLE is set but httpx reads SSL_CERT_FILE",
        )
    else:
        report("OK", "TLS", f"CA bundle: {cert_file or 'default (certifi)'}")

    # Client settings: what the constructor accepts, and what works well in
    # practice. A stand-in key: the real one was checked above.
    try:
        client = PromptOpsClient(
            api_key="po_stand_in", base_url=base_url, **client_settings
        )
    except ValueError as exc:
        report("ERROR", "Client", str(exc))
        return findings
    if client.timeout < 5:
        report(
            "WARN",
            "Timeout",
            f"{client.timeout:g} s is short: retries share this deadline",
        )
    if client.max_retries == 0:
        report(
            "WARN",
            "Retries",
            "max_retries=0: one dropped connection fails the call",
        )
    if client.cache_ttl == 0:
        report("WARN", "Cache", "cache_ttl=0: every get_prompt is a request")
    if not any(f.topic in ("Timeout", "Retries", "Cache") for f in findings):
        report(
            "OK",
            "Client",
            f"timeout {client.timeout:g} s, {client.max_retries} retries, "
            f"cache {client.cache_ttl:g} s",
        )
    return findings


def print_report(findings: list[Finding]) -> int:
    """Print one line per finding; return 1 if any is an ERROR."""
    for finding in findings:
        print(f"{finding.level:<6} {finding.topic:<9} {finding.message}")
    problems = sum(finding.level != "OK" for finding in findings)
    print(f"{problems} problem(s) found" if problems else "No problems found")
    return 1 if any(finding.level == "ERROR" for finding in findings) else 0


async def _doctor() -> int:
    return print_report(diagnose(os.environ))


def main(argv: list[str] | None = None) -> int:
    return run_script("config-doctor", _doctor, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
