"""Schemathesis (4.x) fuzzes the mock API, served over HTTP by uvicorn, against
docs/reference/openapi.yaml, with every check on: `nox -s schemathesis`.

Settings (tests/fuzz/schemathesis.toml): seed 1, at most 50 examples per operation and phase,
requests signed by tests/fuzz/hooks.py. Expected: zero failures. What is tuned, and why:

- renderPrompt may answer 422 to a schema-valid body: which variables a prompt needs is its
  template, not the schema (`{"variables": {}}` misses `name` for hello-world).
- The document gives examples (prompt id `hello-world`, `{"variables": {"name": "Ada"}}`):
  without them nearly every generated prompt id is unknown and every render misses a
  variable, so the fuzzer would test little beyond the 404 and 422 paths.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from snippets.client.clock import SYSTEM_CLOCK
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.endpoints import ENDPOINTS, route

from ..docs_blocks import ROOT
from ..local_server import serve

pytestmark = pytest.mark.schemathesis

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_no_failure_in_the_mock_api() -> None:
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)  # a real server runs on real time
    schemathesis = Path(sys.executable).with_name("schemathesis")
    with serve(MockASGIApp(api)) as base_url:
        run = subprocess.run(
            [
                str(schemathesis),
                "--config-file",
                str(CONFIG),
                "run",
                str(ROOT / "docs/reference/openapi.yaml"),
                "--url",
                base_url,
                "--checks",
                "all",
                "--no-color",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = run.stdout + run.stderr
    summary = output[output.rfind("Test cases:") :]
    print(summary)  # the case count, in the nox log
    assert run.returncode == 0, output[-6000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert cases and int(cases[1]) == int(cases[2]) >= 500, summary
    assert MOCK_API_KEY not in output  # Schemathesis filters Authorization from what it prints

    # The hook signed for real: every endpoint of the table was answered past authentication,
    # and the auth checks' unsigned or tampered requests were refused.
    statuses: Counter[tuple[str | None, int]] = Counter()
    for request, response in api.exchanges:
        found = route(request.url.raw_path.partition(b"?")[0])
        endpoint = found.endpoint(request.method) if found else None
        statuses[endpoint.operation_id if endpoint else None, response.status_code] += 1
    for endpoint in ENDPOINTS:
        assert statuses[endpoint.operation_id, 200] > 0, (endpoint.operation_id, statuses)
    assert sum(n for (_, status), n in statuses.items() if status == 401) > 0
