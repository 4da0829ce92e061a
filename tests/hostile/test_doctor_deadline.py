"""The doctor against real misbehaving servers on 127.0.0.1, in real time: its one deadline
holds whatever the server does, it finishes and says which check ran out of time, and it never
prints the key a server echoes.

Real time, so in the hostile session (`nox -s hostile`): about two seconds in all, the runs
sharing one event loop where they can.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
import tracemalloc

import pytest

from snippets.checks import Network, Report
from snippets.doctor import CHECKS, main, run_doctor
from snippets.offline import simulated_resolver

from .servers import Exchange, endless_body, hostile_servers, silent, trickle_headers
from .test_hostile_network import MARGIN

pytestmark = pytest.mark.hostile

KEY = "po_live_hostile_doctor_3c9a1e"
DEADLINE = 1.0  # seconds for each whole run
SERVERS = {"never answers": silent, "trickles headers": trickle_headers}
AFTER_PUBLIC_HEALTH = [c.id for c in CHECKS][[c.id for c in CHECKS].index("public-health") + 1 :]


async def echo_the_key(x: Exchange) -> None:
    """A gateway that answers everything with the credentials it was sent, Date included."""
    echoed = f"rejected {x.headers.get('authorization', 'no key')} {KEY}"
    await x.answer(
        401 if x.path.startswith("/v1/client") else 200,
        {"success": False, "error": {"code": "AUTHENTICATION_ERROR", "message": echoed}}
        if x.path.startswith("/v1/client")
        else {"success": True, "data": {"status": "healthy"}},
        headers=f"Date: {email.utils.formatdate(time.time(), usegmt=True)}\r\n",
    )


async def _doctor(url: str, deadline: float = DEADLINE) -> tuple[Report, float]:
    environ = {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": url}
    started = time.monotonic()
    report = await run_doctor(
        environ=environ, network=Network(resolve=simulated_resolver), deadline=deadline
    )
    return report, time.monotonic() - started


def test_the_deadline_holds_against_servers_that_never_answer_or_trickle() -> None:
    """Both run at once on one event loop: the whole test takes about one deadline."""

    async def both(urls: dict[str, str]) -> list[tuple[Report, float]]:
        return await asyncio.gather(*(_doctor(urls[name]) for name in SERVERS))

    with hostile_servers(dict(SERVERS)) as running:
        runs = asyncio.run(both(running.urls))
    for name, (report, seconds) in zip(SERVERS, runs, strict=True):
        assert seconds < DEADLINE + MARGIN, f"{name}: {seconds:.2f} s"
        found = {f.id: f for f in report.findings}
        assert found["tcp"].status == "ok", name  # it accepted the connection
        assert found["tls"].status == "skipped"  # plain http on 127.0.0.1
        assert found["public-health"].status == "failure", name
        assert found["public-health"].detail == (
            "ran out of time: no result within the 1 s deadline"
        )
        assert [f.id for f in report.ran_out_of_time] == ["public-health"], name
        after = [f for f in report.findings if f.id in AFTER_PUBLIC_HEALTH]
        assert [f.id for f in after] == AFTER_PUBLIC_HEALTH
        assert {f.detail for f in after} == {"needs Public health, which ran out of time"}
        assert report.exit_code == 2


def test_the_command_finishes_within_its_deadline_and_says_what_ran_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with hostile_servers({"never answers": silent}) as running:
        monkeypatch.setenv("PROMPTOPS_BASE_URL", running.urls["never answers"])
        monkeypatch.setenv("PROMPTOPS_API_KEY", KEY)
        started = time.monotonic()
        code = main(["--deadline", str(DEADLINE), "--json"])
        seconds = time.monotonic() - started
    assert code == 2
    assert seconds < DEADLINE + MARGIN
    report = json.loads(capsys.readouterr().out)
    assert report["ran_out_of_time"] == ["public-health"]
    assert report["simulated"] is None


def test_the_key_a_server_echoes_is_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with hostile_servers({"echoes the key": echo_the_key}) as running:
        report, _ = asyncio.run(_doctor(running.urls["echoes the key"], deadline=5))
    shown = "\n".join(report.text()) + json.dumps(report.as_json())
    found = {f.id: f for f in report.findings}
    assert found["auth"].status == "failure"
    assert found["auth"].detail == "AUTHENTICATION_ERROR: rejected Bearer *** ***"
    # Without the key, the API's paths answer 401 in its envelope: reachable.
    assert found["api-paths"].status == "ok"
    assert KEY not in shown


def test_an_endless_health_body_is_cut_at_its_limit_not_read_whole() -> None:
    """A proxy that streams forever: the doctor reads 64 KiB of it, says so, and goes on."""
    with hostile_servers({"endless body": endless_body}) as running:
        tracemalloc.start()
        try:
            report, seconds = asyncio.run(_doctor(running.urls["endless body"], deadline=5))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    health = {f.id: f for f in report.findings}["public-health"]
    assert health.status == "failure"
    assert health.detail == (
        "SERVER_ERROR: GET /v1/health answered HTTP 200 with a body of more than 65536 bytes, "
        "over the 65536 byte limit (max_response_bytes)"
    )
    assert not health.ran_out_of_time and seconds < DEADLINE + MARGIN
    assert peak < 4 * 1024 * 1024  # the body limit and a client's buffers, not the stream
