"""PromptOps doctor: runs every check this guide teaches, in one command, and says what to do
next.

    promptops-doctor                   # the API in PROMPTOPS_BASE_URL, the key in PROMPTOPS_API_KEY
    promptops-doctor --mock wrong-key  # a failure, reproduced offline against the bundled mock
    promptops-doctor --json            # for CI and monitoring

Configuration (the key, the base URL, proxy and CA variables), DNS, TCP, TLS, the public and
the authenticated health endpoints, clock skew, the rate limit, a prompt fetched and rendered,
and a short latency sample: one line each, with the fix and a link to the section that explains
it under any that did not pass. Checks that need a failed one are skipped, not failed again.
The whole run has one deadline (`--deadline`, 30 s by default). Exit code: 0 when all is well,
1 with warnings, 2 with failures or when the deadline cut the run short.
"""

from .checks import CHECKS, DEADLINE, SITE, Check, Network, Outcome, run_doctor
from .cli import main
from .report import SCHEMA_VERSION, CheckResult, Report, Status

__all__ = [
    "CHECKS",
    "DEADLINE",
    "SCHEMA_VERSION",
    "SITE",
    "Check",
    "CheckResult",
    "Network",
    "Outcome",
    "Report",
    "Status",
    "main",
    "run_doctor",
]
