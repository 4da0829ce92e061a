"""Environment report: what to paste into a bug report (never the API
key itself).

python -m snippets.debugging.environment_report
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

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
    reduced to set/unset, and a base URL shown without any user, password
    or query."""
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
    report["PROMPTOPS_BASE_URL"] = (
        "not set (default)" if base_url is None else redact_url(base_url)
    )
    report["HTTPS_PROXY"] = "set" if environ.get("HTTPS_PROXY") else "not set"
    return report


def format_report(report: Mapping[str, str]) -> str:
    width = max(map(len, report))
    return "\n".join(
        f"{name:<{width}}  {value}" for name, value in report.items()
    )


def main(argv: list[str] | None = None) -> int:
    print(format_report(environment_report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
