"""Benchmarks for `nox -s bench`: what caching, pooling and batching buy, and what our own
harness and client cost. Each figure is a ratio of two timings taken in the same run (medians
of repeated rounds), so machine noise mostly cancels.

    python -m tests.benchmarks.bench [--docs-seconds N]

Writes .benchmarks/latest.json and docs/includes/benchmarks.md (the contributing page shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest
import trustme
from mkdocs.commands.build import build
from mkdocs.config import load_config

from snippets.client import PromptOpsAuth, PromptOpsClient
from snippets.client.clock import SYSTEM_CLOCK, FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.performance_issues.render_many import render_many
from snippets.scenarios import HEALTHY, MOCK_SCENARIOS

from ..docs_blocks import ROOT

ROUNDS = 7


def median_seconds(run: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(factory: Callable[[], Coroutine[Any, Any, object]], rounds: int = ROUNDS) -> float:
    return median_seconds(lambda: asyncio.run(factory()), rounds)


# -- the harness: cost per docs example ------------------------------------------------------


class _Durations:
    """A pytest plugin recording each test's seconds (setup + call + teardown)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration


def _exec_example(source: str, filename: str, scenario: str, workdir: str) -> None:
    """Run an example as a reader would, with the same mock scenario, and nothing checked."""
    from ..test_docs import on_the_docs_clock

    clock = FakeClock()
    os.environ["PROMPTOPS_API_KEY"] = MockPromptOpsAPI.api_key
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(on_the_docs_clock(clock))
        stack.enter_context(contextlib.chdir(workdir))
        if scenario != "off":
            MOCK_SCENARIOS[scenario].api(stack.enter_context(MockPromptOpsAPI(clock=clock)))
        exec(compile(source, filename, "exec"), {"__name__": "__main__"})


def harness_vs_exec() -> dict[str, float]:
    from ..test_docs import RUNNABLE

    durations = _Durations()
    for _ in range(3):
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main(
                ["-q", "tests/test_docs.py", "-k", "docs_example"],
                plugins=[durations],
            )
    harness = sum(durations.seconds.values()) / 3 / len(RUNNABLE)
    with tempfile.TemporaryDirectory() as workdir:

        def exec_all() -> None:
            for example in RUNNABLE:
                scenario = example.prefix_settings().get("mock", HEALTHY)
                _exec_example(example.source, str(example.path), scenario, workdir)

        plain = median_seconds(exec_all, rounds=3) / len(RUNNABLE)
    return {
        "examples": len(RUNNABLE),
        "harness_ms": harness * 1e3,
        "exec_ms": plain * 1e3,
        "ratio": harness / plain,
    }


# -- the client: overhead over raw httpx, and the cache ---------------------------------------

N = 300


def client_vs_raw_httpx() -> dict[str, float]:
    """The same signed GET through the client (validation, envelope, retry loop) and through a
    raw httpx.AsyncClient with the same auth, on the same in-memory transport."""
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    transport = httpx.MockTransport(api.handle)

    async def with_client() -> None:
        async with PromptOpsClient(api.api_key, transport=transport, clock=SYSTEM_CLOCK) as client:
            for _ in range(N):
                await client.health_check()

    async def with_raw_httpx() -> None:
        auth = PromptOpsAuth(api.api_key, SYSTEM_CLOCK)
        async with httpx.AsyncClient(base_url=api.base_url, auth=auth, transport=transport) as http:
            for _ in range(N):
                body = (await http.get("/v1/client/health")).json()
                assert body["success"]

    client, raw = timed(with_client), timed(with_raw_httpx)
    return {"client_us": client / N * 1e6, "raw_us": raw / N * 1e6, "ratio": client / raw}


def cache_hit_vs_miss() -> dict[str, float]:
    api = MockPromptOpsAPI(clock=SYSTEM_CLOCK)
    transport = httpx.MockTransport(api.handle)

    def fetches(cache_ttl: float) -> Callable[[], Coroutine[Any, Any, None]]:
        async def run() -> None:
            async with PromptOpsClient(
                api.api_key, transport=transport, clock=SYSTEM_CLOCK, cache_ttl=cache_ttl
            ) as client:
                await client.get_prompt("hello-world")  # warm: the cached run starts with a hit
                for _ in range(N):
                    await client.get_prompt("hello-world")

        return run

    hit, miss = timed(fetches(300)), timed(fetches(0))
    return {"hit_us": hit / N * 1e6, "miss_us": miss / N * 1e6, "ratio": miss / hit}


# -- over real sockets: pooling and batching --------------------------------------------------

REQUESTS = 50
LATENCY = 0.005  # the server's simulated processing time per request


def pooling_and_batching() -> dict[str, float]:
    """Against uvicorn in its own process, so the client does not share a GIL with the server."""
    results: dict[str, float] = {}

    def client(base_url: str) -> PromptOpsClient:
        return PromptOpsClient(MockPromptOpsAPI.api_key, base_url=base_url, clock=SYSTEM_CLOCK)

    # Pooling: what a new client and connection cost, with no server time to hide them; over
    # plain HTTP, and over TLS (a certificate from a throwaway CA), as against the real API.
    for scheme in ("http", "https"):
        with uvicorn_process(latency=0, tls=scheme == "https") as base_url:

            async def pooled() -> None:
                async with client(base_url) as shared:
                    for _ in range(REQUESTS):
                        await shared.health_check()

            async def unpooled() -> None:
                for _ in range(REQUESTS):
                    async with client(base_url) as fresh:
                        await fresh.health_check()

            results[f"{scheme}_pooled_ms"] = timed(pooled, rounds=5) * 1e3
            results[f"{scheme}_unpooled_ms"] = timed(unpooled, rounds=5) * 1e3
            results[f"{scheme}_pooling_ratio"] = (
                results[f"{scheme}_unpooled_ms"] / results[f"{scheme}_pooled_ms"]
            )

    # Batching and concurrency: where the server's time per request dominates.
    items = [("hello-world", {"name": f"user{i}"}) for i in range(REQUESTS)]
    with uvicorn_process(latency=LATENCY) as base_url:

        async def sequential() -> None:
            async with client(base_url) as one:
                for prompt_id, variables in items:
                    await one.render_prompt(prompt_id, variables)

        async def batched() -> None:
            async with client(base_url) as one:
                await one.batch_render(items)

        async def concurrent() -> None:
            async with client(base_url) as one:
                await render_many(one, items, concurrency=10)

        for name, run in [
            ("sequential", sequential),
            ("batched", batched),
            ("concurrent", concurrent),
        ]:
            results[f"{name}_ms"] = timed(run, rounds=5) * 1e3
    results["batch_ratio"] = results["sequential_ms"] / results["batched_ms"]
    results["concurrency_ratio"] = results["sequential_ms"] / results["concurrent_ms"]
    return results


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def uvicorn_process(latency: float, tls: bool = False) -> Iterator[str]:
    """`uvicorn snippets.mock_api.asgi:app` on a free port of 127.0.0.1, in its own process;
    with `tls`, serving a certificate this process trusts through SSL_CERT_FILE."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "snippets.mock_api.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--interface",
        "asgi3",
        "--log-level",
        "warning",
        "--no-date-header",  # the mock sends its own Date
    ]
    with tempfile.TemporaryDirectory() as keys, contextlib.ExitStack() as undo:
        if tls:
            ca = trustme.CA()
            ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
                f"{keys}/server.pem"
            )
            ca.cert_pem.write_to_path(f"{keys}/ca.pem")
            command += [
                "--ssl-keyfile",
                f"{keys}/server.pem",
                "--ssl-certfile",
                f"{keys}/server.pem",
            ]
            undo.enter_context(_environ(SSL_CERT_FILE=f"{keys}/ca.pem"))  # trust its CA
        server = subprocess.Popen(
            command, env={**os.environ, "PROMPTOPS_MOCK_LATENCY": str(latency)}
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("uvicorn did not start") from None
                    time.sleep(0.05)  # waiting for the server's start-up, in the benchmark only
            yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def site_build() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as site:
        config = load_config(str(ROOT / "mkdocs.yml"), site_dir=site, strict=True)
        with contextlib.redirect_stderr(io.StringIO()):
            return {"seconds": median_seconds(lambda: build(config), rounds=3)}


# -- report -----------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    h, c, k, p, s = (results[n] for n in ("harness", "client", "cache", "pooling", "site"))
    rows = [
        (
            "Docs harness per example vs plain `exec`",
            f"{h['harness_ms']:.1f} ms vs {h['exec_ms']:.1f} ms",
            f"{h['ratio']:.2f}x",
            "≤ 2x",
        ),
        (
            "Client vs raw httpx, per request",
            f"{c['client_us']:.0f} µs vs {c['raw_us']:.0f} µs",
            f"{c['ratio']:.2f}x",
            "≤ 1.2x",
        ),
        (
            "Cached `get_prompt` vs uncached",
            f"{k['hit_us']:.1f} µs vs {k['miss_us']:.0f} µs",
            f"{k['ratio']:.0f}x faster",
            "≥ 100x",
        ),
    ]
    for scheme, name in (("http", "HTTP"), ("https", "TLS")):
        rows.append(
            (
                f"{REQUESTS} requests over {name}: one pooled client vs a client each",
                f"{p[scheme + '_pooled_ms']:.0f} ms vs {p[scheme + '_unpooled_ms']:.0f} ms",
                f"{p[scheme + '_pooling_ratio']:.1f}x faster",
                "≥ 3x",
            )
        )
    rows += [
        (
            f"{REQUESTS} renders: batched vs sequential",
            f"{p['batched_ms']:.0f} ms vs {p['sequential_ms']:.0f} ms",
            f"{p['batch_ratio']:.1f}x faster",
            "",
        ),
        (
            f"{REQUESTS} renders: 10 concurrent vs sequential",
            f"{p['concurrent_ms']:.0f} ms vs {p['sequential_ms']:.0f} ms",
            f"{p['concurrency_ratio']:.1f}x faster",
            "",
        ),
        ("Strict site build", f"{s['seconds']:.1f} s", "", ""),
    ]
    if results.get("docs_seconds"):
        rows.append(
            (
                "Warm `nox -s docs` (build + every test)",
                f"{results['docs_seconds']:.1f} s",
                "",
                "≤ 15 s",
            )
        )
    lines = ["| Measure | Timings | Ratio | Target |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    lines.append("")
    lines.append(
        f"Measured with `nox -s bench` on {results['machine']}; medians of repeated rounds. "
        "Real-socket figures use uvicorn in its own process on 127.0.0.1: pooling with no server "
        f"time, batching and concurrency with {LATENCY * 1e3:.0f} ms per request."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs-seconds", type=float, help="warm `nox -s docs` time to record")
    args = parser.parse_args(argv)
    steps = {
        "harness": harness_vs_exec,
        "client": client_vs_raw_httpx,
        "cache": cache_hit_vs_miss,
        "pooling": pooling_and_batching,
        "site": site_build,
    }
    results: dict[str, Any] = {}
    for number, (name, step) in enumerate(steps.items(), start=1):
        print(f"[{number}/{len(steps)}] {name}...", file=sys.stderr, flush=True)
        results[name] = step()
    results["docs_seconds"] = args.docs_seconds
    results["machine"] = f"{os.cpu_count()} cores, Python {platform.python_version()}"
    out = ROOT / ".benchmarks"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    (ROOT / "docs/includes/benchmarks.md").write_text(table(results))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
