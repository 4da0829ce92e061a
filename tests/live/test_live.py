"""The live check's own rules, without a server: what it may call, and how it judges a block."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from snippets.client.clock import SYSTEM_CLOCK
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.endpoints import endpoints_of

from ..contract import spec_document
from ..copied.reader import reader_environment
from ..docs_blocks import Block
from ..local_server import serve
from ..site.rendered import CopyableBlock
from .run import PRISM_LIMITS, Ran, outcome, verdict


def test_only_read_only_operations_are_called_and_a_write_appears_skipped() -> None:
    spec = copy.deepcopy(spec_document())  # changed below: the shared one stays as it is
    assert all(op.read_only for op in endpoints_of(spec))  # today: none writes
    spec["paths"]["/v1/client/prompts"]["post"] = {"operationId": "createPrompt"}
    spec["paths"]["/v1/client/prompts/{prompt_id}"]["delete"] = {"operationId": "deletePrompt"}
    spec["paths"]["/v1/client/prompts/{prompt_id}/render"]["post"]["x-read-only"] = False
    written = {op.operation_id for op in endpoints_of(spec) if not op.read_only}
    assert written == {"createPrompt", "deletePrompt", "renderPrompt"}


def block(printed: list[str]) -> CopyableBlock:
    source = Block(Path("docs/faq.md"), 1, "python", "python", {}, "")
    return CopyableBlock(source, "\n".join(f"#> {line}" for line in printed))


def test_the_page_s_output_is_the_same_output() -> None:
    shown = ["Hello, Ada!"]
    assert verdict(block(shown), Ran(0, shown, ""), Ran(0, [], "")).verdict == "same"


def test_output_the_mock_gives_with_the_api_s_data_differs_only_in_data() -> None:
    live = Ran(0, ["Hi Ada", "2026-12-06T10:00:00Z req_42"], "")
    reference = Ran(0, ["Hi Ada", "2026-12-06T10:00:03Z req_7"], "")
    result = verdict(block(["Hello, Ada!", "2026-01-01T00:00:00Z req_1"]), live, reference)
    assert result.verdict == "data"
    assert result.detail[0] == "- the page, + this API:"
    assert "-Hello, Ada!" in result.detail and "+Hi Ada" in result.detail


def test_other_behaviour_than_the_mock_s_with_the_same_data_fails() -> None:
    shown = ["next: AUTHENTICATION_ERROR"]
    result = verdict(block(shown), Ran(0, ["next: accepted"], ""), Ran(0, shown, ""))
    assert result.verdict == "fails"
    assert "+next: accepted" in result.detail


def test_two_failures_with_other_errors_are_not_a_data_difference() -> None:
    live = Ran(1, [], "Traceback\nServerError: data.id is 'hello-world', not 'x'")
    reference = Ran(1, [], "Traceback\nPromptNotFoundError: Prompt 'x' not found")
    assert outcome(live) != outcome(reference)
    assert verdict(block(["x"]), live, reference).verdict == "fails"


def test_a_block_that_reaches_no_api_fails_even_when_the_mock_s_run_agrees() -> None:
    """A block that names its own base URL goes elsewhere: that is not this API's data."""
    shown = ["FAIL  AUTHENTICATION_ERROR: Invalid API key or signature"]
    unreached = Ran(0, ["FAIL  NETWORK_ERROR: Could not reach https://api.promptops.com"], "")
    result = verdict(block(shown), unreached, unreached)
    assert result.verdict == "fails"
    assert "reached no API" in result.detail[0]


def test_prism_s_limits_explain_its_failures_and_nothing_else() -> None:
    def rule(text: str) -> str | None:
        found = next((limit for limit in PRISM_LIMITS if limit.explains(text)), None)
        return found.rule if found else None

    assert "signing" in str(rule("-next: AUTHENTICATION_ERROR\n+next: accepted"))
    assert "Date" in str(rule("+FAIL  Clock skew  clock 29327458 s ahead of the server"))
    assert "prompt store" in str(rule("data.id is 'hello-world', not the requested 'x'"))
    rendered = "-['Hello, Ada!', 'Hello, Grace!']\n+['Hello, Ada!', 'Hello, Ada!']"
    assert "templates" in str(rule(rendered))
    assert rule("-31 requests for 30 greetings\n+30 requests for 30 greetings") is None


def test_each_check_prism_skips_is_explained_by_a_limit() -> None:
    skipped = [check for limit in PRISM_LIMITS for check in limit.skipped_checks]
    assert len(skipped) == len(set(skipped))
    assert "response_schema_conformance" not in skipped  # what Prism is held to
    assert all(limit.why for limit in PRISM_LIMITS)


@pytest.mark.hostile  # a real server on 127.0.0.1 and a real process: nox -s hostile
@pytest.mark.parametrize("args", [[], ["--prompt", "summary"]], ids=["listed", "--prompt"])
def test_the_health_check_passes_against_a_workspace_with_none_of_the_mock_s_prompts(
    args: list[str], tmp_path: Path
) -> None:
    """As a reader runs it, over HTTP, against prompts that are not the example ones."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)  # a real server runs on real time
    api.prompts = {
        "onboarding-email": {"name": "O", "template": "Dear {{first}}, {{product}}", "version": 9},
        "summary": {"name": "S", "template": "Summarise: {{ text }}", "version": 1},
    }
    with serve(MockASGIApp(api)) as base_url:
        run = subprocess.run(
            [sys.executable, "-m", "snippets.index.health_check", "--json", *args],
            env=reader_environment(tmp_path, base_url, api.api_key),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    report = json.loads(run.stdout)
    assert (run.returncode, report["summary"]) == (
        0,
        {"ok": 4, "warning": 0, "failure": 0, "skipped": 0},
    )
    prompt = next(check for check in report["checks"] if check["id"] == "prompt")
    assert prompt["detail"].startswith("summary v1" if args else "onboarding-email v9")
