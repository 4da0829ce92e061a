"""PromptOps doctor: runs every check this guide teaches, in one command, and says what to do
next.

    promptops-doctor                   # the API in PROMPTOPS_BASE_URL, the key in PROMPTOPS_API_KEY
    promptops-doctor --mock wrong-key  # a failure, reproduced offline against the bundled mock
    promptops-doctor --json            # for CI and monitoring

Configuration (the key, the base URL, proxy and CA variables), DNS, TCP, TLS, the public
endpoints, clock skew, the rate limit, the authenticated health endpoint, a prompt fetched and
rendered, and a short latency sample: one line each, with the fix and a link to the section
that explains it under any that did not pass. Checks that need a failed one are skipped, not
failed again. The whole run has one deadline (`--deadline`, 30 s by default). Exit code: 0
when all is well, 1 with warnings, 2 with failures or when the deadline cut the run short.
"""

from snippets.cli import run_check_tool

from .checks import CHECKS, LATENCY, RATE_LIMIT, run_doctor


def main(argv: list[str] | None = None) -> int:
    """`promptops-doctor`: the report of every check, with the exit code it gives."""
    # What the API answers now, at once: a 429 is reported, not waited out.
    return run_check_tool("doctor", CHECKS, __doc__, argv, max_retries=0)


__all__ = ["CHECKS", "LATENCY", "RATE_LIMIT", "main", "run_doctor"]
