"""Environment report: what to paste into a bug report (never the API key
itself).

Run it against the API the client would use (PROMPTOPS_BASE_URL, key from
PROMPTOPS_API_KEY), or with --mock against the mock API this package bundles:

    python -m snippets.debugging.environment_report
    python -m snippets.debugging.environment_report --mock
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from snippets.cli import run_script
from snippets.client.redaction import redact_url

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
    """OS, Python, package versions and PromptOps settings, with secrets
    reduced to set/unset (and a base URL shown without any user, password or
    query)."""
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
    report["PROMPTOPS_API_KEY"] = (
        "set" if environ.get("PROMPTOPS_API_KEY") else "not set"
    )
    base_url = environ.get("PROMPTOPS_BASE_URL")
    if base_url is None:
        report["PROMPTOPS_BASE_URL"] = "not set (default)"
    else:
        report["PROMPTOPS_BASE_URL"] = (
            redact_url(base_url) if base_url else "set, but empty"
        )
    report["HTTPS_PROXY"] = "set" if environ.get("HTTPS_PROXY") else "not set"
    return report


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
