"""Environment report: what to paste into a bug report (never the API key
itself): the system, the packages, and each setting as the client reads it.

    promptops-environment-report
    promptops-environment-report --mock  # the mock API this package bundles
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version

from snippets.cli import run_script
from snippets.client import ConfigurationError
from snippets.client.redaction import scrub
from snippets.client.settings import (
    read_api_key,
    read_base_url,
    read_proxy,
    read_trust,
    secrets_in,
)

PACKAGES = (
    "promptops-troubleshooting-docs",
    "httpx",
    "httpcore",
    "respx",
    "certifi",
)


def environment_report(
    environ: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """OS, Python, package versions and the client's settings: the key only
    as set or not, URLs without credentials, and what the client would say
    of a setting it cannot use."""
    report = {
        "OS": platform.platform(),
        "Python": (
            f"{platform.python_version()} ({platform.python_implementation()})"
        ),
    }
    for package in PACKAGES:
        try:
            report[package] = version(package)
        except PackageNotFoundError:
            report[package] = "not installed"

    def setting(name: str, read: Callable[[], str]) -> None:
        try:
            shown = read()
        except ConfigurationError as exc:
            shown = f"unusable: {exc}"
        # The key never, even pasted where it does not belong (a URL's path)
        report[name] = scrub(shown, secrets_in(environ))

    setting("API key", lambda: _key(environ))
    setting("Base URL", lambda: _base_url(environ))
    setting("Proxy", lambda: _proxy(environ))
    setting("CAs", lambda: read_trust(environ).value.shown)
    return report


def _key(environ: Mapping[str, str]) -> str:
    if not environ.get("PROMPTOPS_API_KEY", "").strip():
        return "not set"
    return f"set in {read_api_key(environ).source}"  # never the key itself


def _base_url(environ: Mapping[str, str]) -> str:
    url = read_base_url(environ)
    return f"{url.value} ({url.source})"


def _proxy(environ: Mapping[str, str]) -> str:
    try:
        url = read_base_url(environ).value
    except ConfigurationError:  # said once, on its own line
        return "unknown: it depends on the base URL, which is unusable"
    proxy = read_proxy(environ, url).value
    return "none" if proxy is None else f"{proxy.shown} ({proxy.variable})"


def format_report(report: Mapping[str, str]) -> str:
    width = max(map(len, report))
    return "\n".join(
        f"{name:<{width}}  {value}" for name, value in report.items()
    )


async def print_report() -> int:
    print(format_report(environment_report()))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_script("environment-report", print_report, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
