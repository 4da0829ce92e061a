"""`nox -s live`: the guide against a real PromptOps API, for a maintainer who has one.

    PROMPTOPS_BASE_URL=https://api.promptops.com PROMPTOPS_API_KEY=... nox -s live
    nox -s live -- --serve mock    # against the mock API, served on 127.0.0.1 (CI)
    nox -s live -- --serve prism   # against Prism's mock server, generated from the document (CI)

It checks, against that API and nothing else:

1. the contract: Schemathesis, with the signing hook (tests/fuzz/hooks.py), every check the
   mock passes, on the read-only operations only;
2. `promptops-doctor --json` and `promptops-health-check --json`, as a reader runs them;
3. every Python block of the built site that needs no mock scenario (no `mock=` setting), as a
   reader copies it, in a fresh virtualenv holding only the wheel. Per block: the same output
   as the page; output that differs only in data; or a failure. "Only in data" means: the
   block prints what it prints against the mock API loaded with this API's own data (its
   prompts, read with GET, and its version), the contract's reference behaviour.

It changes nothing on the API: it calls only the operations the contract says change nothing
(every GET, and those marked `x-read-only`); any other operation that appears in the document
is skipped, and the summary says so. The summary ends with one RESULT line; the exit code is 1
when the API breaks the contract, a tool fails or a live block fails, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml

from snippets.client import DEFAULT_BASE_URL, PromptOpsClient, PromptOpsError
from snippets.client.clock import SYSTEM_CLOCK
from snippets.mock_api import MOCK_API_KEY, MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.mock_api.endpoints import ENDPOINTS

from ..copied.reader import SEEDED_RUN, reader_environment
from ..docs_blocks import ROOT
from ..local_server import serve
from ..site.rendered import CopyableBlock, copyable_blocks

SPEC_PATH = ROOT / "docs/reference/openapi.yaml"
SCHEMATHESIS_CONFIG = ROOT / "tests/fuzz/schemathesis.toml"
MAX_EXAMPLES = 20
"""Per operation and phase: fewer than against the mock (50), to spare a real API's quota."""
RUN_TIMEOUT = 90  # seconds for one block (a profiler run against a slow API takes a while)

Verdict = Literal["same", "data", "fails"]


# -- the API under test ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    base_url: str
    api_key: str = field(repr=False)
    name: str  # what the summary calls it
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True)
class Limit:
    """A rule of the contract a generated server cannot keep, and what live does about it."""

    rule: str
    why: str
    skipped_checks: tuple[str, ...] = ()
    """Schemathesis checks not run against such a server."""
    signs: tuple[str, ...] = ()
    """Patterns (re.M) of a report's lines that this limit explains: a failure showing one is
    the server's limit; a failure showing none is not explained, and fails the run."""

    def explains(self, text: str) -> bool:
        return any(re.search(sign, text, re.M) for sign in self.signs)


PRISM_LIMITS = (
    Limit(
        "signing (x-promptops.signing; the timestamp window)",
        "Prism checks that Authorization and both signature headers are there, not that the "
        "key is known or the HMAC right: a request with invented credentials is answered 200",
        ("ignored_auth",),
        (r"^-.*AUTHENTICATION_ERROR",),  # the page's refusal, answered instead
    ),
    Limit(
        "the order of checks: route and method (x-promptops.order, steps 2 and 3)",
        "Prism answers an unknown path or method with its own application/problem+json (404, "
        "405 without Allow), not the contract's envelope",
        ("unsupported_method",),
    ),
    Limit(
        "the order of checks: body (x-promptops.order, step 6)",
        "Prism's own validator answers first: a body that is not JSON gets its 400, an id "
        "outside the pattern (the reserved `batch-render` too) its 422 problem+json; neither "
        "status is the document's",
        ("status_code_conformance",),
    ),
    Limit(
        "the Date header (the server's clock)",
        "Prism sends the document's example date (Thu, 01 Jan 2026): the clock-skew checks fail",
        signs=(r"clock \d+ s (ahead of|behind) the server",),
    ),
    Limit(
        "prompt ids and the prompt store (x-promptops.prompt-ids; getPrompt's description)",
        "Prism answers every prompt id with the document's one example (a batch with its one "
        "result), and an id outside the pattern with its own 422: no 404 for an unknown "
        "prompt, and the answer names another prompt than the one asked for",
        ("answer_names_the_prompt_asked_for", "negative_data_rejection"),
        (r"not the requested", r"\d+ results for \d+ requests", r"the first of \d+ listed"),
    ),
    Limit(
        "templates and variables (x-promptops.templates; steps 7 and 8 of the order)",
        "Prism renders nothing: every render answers the document's example text, and a "
        "missing variable is no 422",
        ("positive_data_acceptance",),
        (r"^\+.*Hello, Ada!",),  # the document's one rendered example, in place of others
    ),
)
"""What Prism's mock server (`prism mock docs/reference/openapi.yaml`) cannot keep: it answers
from the document's schemas and examples alone."""


# -- 1. the contract: Schemathesis ---------------------------------------------------------


@dataclass
class Section:
    name: str
    ok: bool
    lines: list[str]


def check_contract(target: Target, work: Path) -> Section:
    # The rule: live changes nothing on the API. It calls only the operations the endpoint
    # table (read from the document) marks read-only.
    safe = [op.operation_id for op in ENDPOINTS if op.read_only]
    skipped = [f"{op.method} {op.path} ({op.operation_id})" for op in ENDPOINTS if not op.read_only]
    excluded = sorted({check for limit in target.limits for check in limit.skipped_checks})
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        *("--config-file", str(SCHEMATHESIS_CONFIG)),
        "run",
        str(SPEC_PATH),
        *("--url", target.base_url),
        *("--checks", "all"),
        *(("--exclude-checks", ",".join(excluded)) if excluded else ()),
        *("--max-examples", str(MAX_EXAMPLES)),
        *(arg for op_id in safe for arg in ("--include-operation-id", op_id)),
        "--no-color",
    ]
    run = subprocess.run(
        command,
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PROMPTOPS_LIVE_API_KEY": target.api_key},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = (run.stdout + run.stderr).replace(target.api_key, "***")
    (work / "schemathesis.log").write_text(output, encoding="utf-8")
    summary = output[output.rfind("Test cases:") :].splitlines()
    cases = summary[1].strip() if len(summary) > 1 else "no test cases"
    failures = re.findall(r"❌ (\S+ [^:\n]+): (\d+)", output[output.rfind("Failures:") :])
    lines = [f"Schemathesis on {len(safe)} read-only operations: {cases}"]
    lines += [f"  {name}: {count}" for name, count in failures]
    if run.returncode != 0:
        found = output[output.find("=== FAILURES") : output.find("=== SUMMARY")].splitlines()
        shown = [line for line in found[1:] if line.strip() and not line.startswith("===")]
        lines += [f"  | {line}" for line in shown[:60]]
        lines += [f"  (the whole log: {work / 'schemathesis.log'})"]
    lines += [f"  skipped, not read-only: {op}" for op in skipped]
    lines += [f"  not run: {check} ({_limit_of(target, check)})" for check in excluded]
    return Section("contract", run.returncode == 0, lines)


def _limit_of(target: Target, check: str) -> str:
    return next(limit.rule for limit in target.limits if check in limit.skipped_checks)


# -- 2. the doctor and the health check ------------------------------------------------------


def check_tool(python: str, module: str, name: str, target: Target, work: Path) -> Section:
    """A check tool with `--json`, as a reader runs it: exit 0 or 1 passes, 2 fails."""
    folder = work / name
    folder.mkdir(exist_ok=True)
    run = subprocess.run(
        [python, "-m", module, "--json"],
        cwd=folder,
        env=reader_environment(folder, target.base_url, target.api_key),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    try:
        report = json.loads(run.stdout.replace(target.api_key, "***"))
    except ValueError:
        tail = (run.stdout + run.stderr).replace(target.api_key, "***").strip().splitlines()[-3:]
        return Section(name, False, [f"exit {run.returncode}, no JSON report", *tail])
    counts = ", ".join(f"{n} {status}" for status, n in report["summary"].items())
    lines = [f"exit {run.returncode}: {counts}"]
    lines += [
        f"  {check['status']}: {check['title']}: {check['detail']}"
        for check in report["checks"]
        if check["status"] != "ok"
    ]
    return Section(name, run.returncode in (0, 1), lines)


# -- 3. the blocks ---------------------------------------------------------------------------


@dataclass
class Data:
    """What the API holds, read with GETs: the reference mock is loaded with it."""

    version: str
    prompts: dict[str, dict[str, Any]]
    problems: list[str]


async def read_data(target: Target) -> Data:
    problems: list[str] = []
    prompts: dict[str, dict[str, Any]] = {}
    version = "unknown"
    async with PromptOpsClient(target.api_key, base_url=target.base_url, cache_ttl=0) as client:
        try:
            version = (await client.health_check()).version
            ids = await client.list_prompts()
        except PromptOpsError as exc:
            return Data(version, prompts, [f"reading the API's data: {exc}"])
        for prompt_id in ids:
            try:
                prompt = await client.get_prompt(prompt_id)
            except PromptOpsError as exc:
                problems.append(f"getPrompt {prompt_id!r}: {exc}")
                continue
            prompts[prompt.id] = {
                "name": prompt.name,
                "template": prompt.template,
                "version": prompt.version,
            }
    return Data(version, prompts, problems)


def example_prompts_note(data: Data) -> list[str]:
    """Whether the API holds the contract's example prompts, which the blocks use."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    wanted = spec["x-promptops"]["example-prompts"]["prompts"]
    missing = [p["id"] for p in wanted if p["id"] not in data.prompts]
    other = [
        p["id"]
        for p in wanted
        if p["id"] in data.prompts
        and " ".join(p["template"].split()) != data.prompts[p["id"]]["template"]
    ]
    notes = []
    if missing:
        notes.append(f"the API lacks the example prompts {', '.join(missing)}: blocks using them")
        notes.append("  print what the contract says for an unknown prompt (data)")
    if other:
        notes.append(f"the example prompts {', '.join(other)} have other templates here (data)")
    return notes or [f"the API holds the {len(wanted)} example prompts the blocks use"]


@dataclass
class Ran:
    returncode: int
    printed: list[str]
    stderr: str


@dataclass
class BlockResult:
    block: CopyableBlock
    verdict: Verdict
    detail: list[str]


def run_block(block: CopyableBlock, python: str, base_url: str, api_key: str) -> Ran:
    with tempfile.TemporaryDirectory(prefix="live-") as folder:
        path = Path(folder) / "block.py"
        path.write_text(block.copied + "\n", encoding="utf-8")
        try:
            run = subprocess.run(
                [python, "-c", SEEDED_RUN, str(path)],
                cwd=folder,
                env=reader_environment(Path(folder), base_url, api_key),
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Ran(-1, [], f"no exit within {RUN_TIMEOUT} s")
    # The report may become an issue's text: never the key, even if a block printed it.
    stdout = run.stdout.replace(api_key, "***")
    printed = [line.replace(base_url, DEFAULT_BASE_URL) for line in stdout.splitlines()]
    return Ran(run.returncode, printed, run.stderr.replace(api_key, "***"))


# What differs between two runs of a block whatever the API: the wall clock, durations, and
# the ids a server gives each response (`X-Request-Id`: the mock's `req_000001`, a UUID).
_VOLATILE = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"\b\d+(?:\.\d+)? ?ms\b"), "<ms>"),
    (
        re.compile(r"\breq_\w+|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        "<id>",
    ),
)


def steady(lines: Sequence[str]) -> list[str]:
    for pattern, mark in _VOLATILE:
        lines = [pattern.sub(mark, line) for line in lines]
    return list(lines)


def outcome(ran: Ran) -> tuple[int, list[str], str]:
    """What two runs must share to differ only in data: the exit code, the output, and for a
    failed run its error (the last line of stderr), times and ids masked."""
    error = ran.stderr.strip().splitlines()[-1:] if ran.returncode else []
    return ran.returncode, steady(ran.printed), "".join(steady(error))


def _unreached(shown: Sequence[str], ran: Ran) -> str | None:
    """Why the run reached no API, if it says NETWORK_ERROR where the page does not: the block
    went elsewhere (a base URL of its own) or the network failed."""
    said = [*ran.printed, *ran.stderr.strip().splitlines()[-1:]]
    if any("NETWORK_ERROR" in line for line in said) and not any(
        "NETWORK_ERROR" in line for line in shown
    ):
        return "NETWORK_ERROR, which the page does not show: the block reached no API"
    return None


def verdict(block: CopyableBlock, live: Ran, reference: Ran) -> BlockResult:
    """same: exit 0 and the page's output; data: what the mock loaded with this API's data
    prints (the contract's behaviour, other data); else it fails."""
    shown = block.printed
    if live.returncode == 0 and (not shown or live.printed == shown):
        return BlockResult(block, "same", [])
    diff = list(difflib.unified_diff(shown, live.printed, "page", "this API", lineterm="", n=0))
    unreached = _unreached(shown, live)
    if unreached:  # reaching no API is no data of this one, even if the mock's run agrees
        return BlockResult(block, "fails", [unreached, *diff[2:]])
    if outcome(live) == outcome(reference):
        return BlockResult(block, "data", ["- the page, + this API:", *diff[2:]])
    detail = [f"exit {live.returncode}"] if live.returncode else []
    if live.returncode != reference.returncode:
        detail = [
            f"exit {live.returncode}; with this API's data the mock gives {reference.returncode}"
        ]
    expected = list(
        difflib.unified_diff(
            steady(reference.printed),
            steady(live.printed),
            "contract",
            "this API",
            lineterm="",
            n=0,
        )
    )
    if expected[2:]:
        detail += ["- the mock with this API's data, + this API:", *expected[2:]]
    else:
        detail += ["- the page, + this API:", *diff[2:]]
    if live.returncode:
        detail += [line for line in live.stderr.strip().splitlines()[-3:]]
    return BlockResult(block, "fails", detail)


def check_blocks(
    blocks: Sequence[CopyableBlock], python: str, target: Target, data: Data
) -> list[BlockResult]:
    reference = MockPromptOpsAPI(
        api_key=target.api_key, clock=SYSTEM_CLOCK, prompts=data.prompts, history=100
    )
    reference.version = data.version
    with serve(MockASGIApp(reference)) as reference_url, ThreadPoolExecutor(4) as pool:

        def one(block: CopyableBlock) -> BlockResult:
            live = run_block(block, python, target.base_url, target.api_key)
            if live.returncode == 0 and (not block.printed or live.printed == block.printed):
                return BlockResult(block, "same", [])
            return verdict(block, live, run_block(block, python, reference_url, target.api_key))

        return list(pool.map(one, blocks))


# -- the summary -----------------------------------------------------------------------------


def summary(
    target: Target,
    sections: list[Section],
    results: list[BlockResult],
    needs_mock: list[CopyableBlock],
    seconds: float,
) -> tuple[str, int]:
    lines = [f"PromptOps live check: {target.name} ({target.base_url})", ""]
    for section in sections:
        mark = "ok  " if section.ok else "FAIL"
        held = section.ok or section.name == "contract"  # never explained away
        why = None if held else _explained(target, section.lines)
        because = f"  (its limit: {why.rule})" if why else ""
        lines.append(f"{mark}  {section.name}: {section.lines[0]}{because}")
        lines += [f"      {line}" for line in section.lines[1:]]
    counts = {kind: sum(r.verdict == kind for r in results) for kind in ("same", "data", "fails")}
    lines += [
        "",
        f"blocks: {len(results)} run: {counts['same']} same output, {counts['data']} differ only "
        f"in data, {counts['fails']} fail; {len(needs_mock)} need a mock scenario (not run)",
    ]
    marks = {"same": "same ", "data": "data ", "fails": "FAIL "}
    for result in sorted(results, key=lambda r: ("fails", "data", "same").index(r.verdict)):
        why = _explained(target, result.detail) if result.verdict == "fails" else None
        because = f"  (its limit: {why.rule})" if why else ""
        lines.append(f"  {marks[result.verdict]} {result.block.where}{because}")
        lines += [f"          {line}" for line in result.detail]
    scenarios: dict[str, list[str]] = {}
    for block in needs_mock:
        scenarios.setdefault(block.scenario, []).append(block.where)
    for scenario, wheres in sorted(scenarios.items()):
        lines.append(f"  mock   {scenario}: {', '.join(wheres)}")
    if target.limits:
        lines += ["", f"what {target.name} cannot keep (its answers come from the document):"]
        lines += [f"  {limit.rule}: {limit.why}" for limit in target.limits]
        lines += [
            "  so it is held to the contract checks it can keep, and its tools and blocks to",
            "  what these limits do not explain",
        ]
    # A generated server is held to the contract checks it can keep (its limits' are off), and
    # its tools and blocks to what its limits do not explain.
    broken = [
        s.name
        for s in sections
        if not s.ok and (s.name == "contract" or not _explained(target, s.lines))
    ]
    failing = sum(r.verdict == "fails" and not _explained(target, r.detail) for r in results)
    problems = [f"{name} fails" for name in broken]
    if failing:
        problems.append(f"{failing} live block{'s' if failing > 1 else ''} fail")
    verdict_line = "FAIL: " + "; ".join(problems) if problems else "ok"
    lines += ["", f"RESULT: {verdict_line} ({seconds:.0f} s)"]
    return "\n".join(lines), 1 if problems else 0


def _explained(target: Target, lines: Sequence[str]) -> Limit | None:
    """The limit of the server that explains a failure's report, if one does."""
    text = "\n".join(lines)
    return next((limit for limit in target.limits if limit.explains(text)), None)


# -- servers live can start itself (CI) ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def served(kind: str | None, prism: str | None) -> Iterator[Target]:
    if kind is None:
        base_url, api_key = (
            os.environ.get("PROMPTOPS_BASE_URL"),
            os.environ.get("PROMPTOPS_API_KEY"),
        )
        if not base_url or not api_key:
            raise SystemExit(
                "live: set PROMPTOPS_BASE_URL and PROMPTOPS_API_KEY (or pass --serve mock|prism)"
            )
        yield Target(base_url.rstrip("/"), api_key, "the API")
    elif kind == "mock":
        api = MockPromptOpsAPI(clock=SYSTEM_CLOCK, history=100)  # a real server's real time
        with serve(MockASGIApp(api)) as base_url:
            yield Target(base_url, api.api_key, "the mock API served over HTTP")
    elif kind == "prism":
        if not prism:
            raise SystemExit("live: --serve prism needs --prism PATH (the prism executable)")
        port = _free_port()
        with subprocess.Popen(
            [prism, "mock", "--host", "127.0.0.1", "--port", str(port), str(SPEC_PATH)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as server:
            base_url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(base_url, server)
                # Any key: Prism checks only that the credentials are there.
                yield Target(base_url, MOCK_API_KEY, "Prism's mock server", PRISM_LIMITS)
            finally:
                server.terminate()
                server.wait(timeout=10)
    else:
        raise SystemExit(f"live: --serve {kind!r}: mock or prism")


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"live: the server exited ({server.returncode}) before answering")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base_url}/v1/health", timeout=1)
            return
        time.sleep(0.2)
    raise SystemExit(f"live: nothing answered at {base_url} within {seconds:.0f} s")


# -- the command -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="the built site")
    parser.add_argument("--python", required=True, help="a virtualenv's python with the wheel")
    parser.add_argument("--serve", choices=["mock", "prism"], help="start this server first")
    parser.add_argument("--prism", help="the prism executable, for --serve prism")
    parser.add_argument("--report", type=Path, help="also write the summary to this file")
    parser.add_argument("--work", type=Path, help="where logs go (a new temporary folder)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    blocks = copyable_blocks(args.site)
    live = [block for block in blocks if block.live]
    needs_mock = [block for block in blocks if not block.live]
    work = args.work or Path(tempfile.mkdtemp(prefix="live-"))
    work.mkdir(parents=True, exist_ok=True)
    with served(args.serve, args.prism) as target:
        data = asyncio.run(read_data(target))
        sections = [
            check_contract(target, work),
            check_tool(args.python, "snippets.doctor", "doctor", target, work),
            check_tool(args.python, "snippets.index.health_check", "health-check", target, work),
            Section(
                "prompts",
                not data.problems,
                [
                    f"API {data.version}, {len(data.prompts)} prompts readable",
                    *data.problems,
                    *example_prompts_note(data),
                ],
            ),
        ]
        results = check_blocks(live, args.python, target, data)
        text, code = summary(target, sections, results, needs_mock, time.monotonic() - started)
    print(text)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
