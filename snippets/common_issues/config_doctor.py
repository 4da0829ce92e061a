"""Configuration doctor: the settings the client reads from the environment
(the key, the base URL, the proxy and the CAs), read exactly as the client
reads them, each reported ok, warn or FAIL with its fix.

    promptops-config-doctor  # python -m snippets.common_issues.config_doctor
    promptops-config-doctor --mock  # against the bundled mock API
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import httpx

from snippets.checks import Check, CheckContext, Outcome, Report, run_checks
from snippets.cli import run_check_tool
from snippets.client.settings import (
    read_api_key,
    read_base_url,
    read_proxy,
    read_trust,
)


def noted(detail: str, notes: tuple[str, ...]) -> Outcome:
    """ok, or a warning that says what looks wrong: the client works either
    way. (A setting it cannot use raises ConfigurationError: a FAIL.)"""
    if notes:
        return Outcome("warning", f"{detail}; {'; '.join(notes)}")
    return Outcome("ok", detail)


async def api_key(ctx: CheckContext) -> Outcome:
    key = read_api_key(ctx.environ)  # the key itself is never shown
    if ctx.simulated:
        return noted("the mock API's key, set by --mock", key.notes)
    size = f"{len(key.value)} characters"
    if ctx.environ.get(key.source, key.value) != key.value:
        size += ", the spaces around it stripped"
    return noted(f"{key.source} is set ({size})", key.notes)


async def base_url(ctx: CheckContext) -> Outcome:
    url = read_base_url(ctx.environ)
    shown = url.value if url.source != "default" else f"default ({url.value})"
    return noted(shown, url.notes)


async def proxy(ctx: CheckContext) -> Outcome:
    url = read_base_url(ctx.environ).value
    chosen = read_proxy(ctx.environ, url)
    host = httpx.URL(url).host
    if chosen.value is None:
        if chosen.source == "default":
            return Outcome("ok", "none: requests go direct")
        return noted(
            f"none: {chosen.source} sends {host} direct", chosen.notes
        )
    via = f"{chosen.value.shown} ({chosen.source})"
    return noted(f"requests to {host} go through {via}", chosen.notes)


async def ca_bundle(ctx: CheckContext) -> Outcome:
    trust = read_trust(ctx.environ)
    held = ""
    if trust.value.cafile:  # certifi's count changes with its version
        held = f" ({trust.value.count()} CAs)"
    return noted(f"{trust.value.shown}{held}", trust.notes)


CHECKS = (
    Check(
        "api-key",
        "API key",
        api_key,
        fix="Set PROMPTOPS_API_KEY to the key from the dashboard, without "
        "quotes, spaces or line breaks, where the client runs",
        section="common-issues/#configurationerror-no-api-key",
        what="`PROMPTOPS_API_KEY` is set, without quotes around it or a "
        "space, line break or control character inside (the spaces around "
        "it are ignored). The key itself is never shown.",
    ),
    Check(
        "base-url",
        "Base URL",
        base_url,
        fix="Unset PROMPTOPS_BASE_URL for the default, or set it to the API "
        "root over https",
        section="common-issues/#a-setting-is-rejected",
        what="`PROMPTOPS_BASE_URL` is unset (the default) or the API root: "
        "http(s), a valid host, no path, no credentials, no query; plain "
        "http only to this machine.",
    ),
    Check(
        "proxy",
        "Proxy",
        proxy,
        fix="Set the variable it names to a proxy httpx can use "
        "(http://host:port; for SOCKS, pip install 'httpx[socks]'), or unset "
        "it",
        section="faq/#does-the-client-work-behind-a-corporate-proxy",
        what="The proxy the client goes through, chosen as httpx chooses it "
        "(`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, lower case first): a URL "
        "httpx can use, and `socksio` installed for a SOCKS proxy.",
        needs=("base-url",),
    ),
    Check(
        "ca-bundle",
        "CA bundle",
        ca_bundle,
        fix="Point SSL_CERT_FILE at a bundle of certifi's CAs and your "
        "company's (build_ca_bundle)",
        section="common-issues/#tls-certificate_verify_failed",
        what="The CAs the client trusts: `SSL_CERT_FILE` (a file that "
        "loads), else `SSL_CERT_DIR`, else certifi's; warns when "
        "`REQUESTS_CA_BUNDLE` is set alone (httpx ignores it) or the file "
        "holds only a few CAs.",
    ),
)


async def check_configuration(
    environ: Mapping[str, str] | None = None,
) -> Report:
    """Check the settings in `environ` (`os.environ` if None)."""
    ctx = CheckContext(os.environ if environ is None else environ)
    return await run_checks("config-doctor", CHECKS, ctx)


def main(argv: list[str] | None = None) -> int:
    return run_check_tool("config-doctor", CHECKS, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
