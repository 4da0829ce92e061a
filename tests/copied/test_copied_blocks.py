"""Every Python block as a reader copies it, run where a reader runs it: `nox -s copied`.

Each block's copy-button text is taken from the built HTML, written alone to a file outside the
repository and run with `python block.py` in a fresh virtualenv that holds only this project's
wheel (no repository on `sys.path`, no test dependencies), on every supported Python found on
the machine. The mock API answers over real HTTP on 127.0.0.1 (uvicorn and the ASGI adapter),
in the block's own scenario, with `PROMPTOPS_BASE_URL` and `PROMPTOPS_API_KEY` set as a reader
would set them. The block must exit 0 and print exactly the `#>` lines the page shows; only the
base URL may differ. (A block that shows a whole module, a script, shows no output: it must
run, as a script, to exit 0.)

The pages show output as of 2026-01-01T00:00:00Z, where the docs harness freezes wall-clock
time. The copy check freezes it there too, for the block's process only, with libfaketime
(Debian's `faketime` package, preloaded: nothing in the virtualenv), and runs the mock API on a
clock stopped at the same instant. Monotonic time runs for real: retries really wait.

`nox -s copied` builds the wheel and the virtualenvs and passes them in `COPY_CHECK_PYTHONS`
(a JSON object: Python version -> the virtualenv's python).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from ruff.__main__ import find_ruff_bin

from snippets.client import DEFAULT_BASE_URL
from snippets.client.clock import FakeClock
from snippets.mock_api import MockPromptOpsAPI
from snippets.mock_api.asgi import MockASGIApp
from snippets.scenarios import MOCK_SCENARIOS

from ..local_server import refused_port, serve
from ..site.built_site import built_site
from ..site.rendered import CopyableBlock, copyable_blocks
from .reader import SEEDED_RUN, reader_environment

pytestmark = pytest.mark.copied

PYTHONS: dict[str, str] = json.loads(os.environ.get("COPY_CHECK_PYTHONS", "{}"))
LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))), None)
BLOCKS = copyable_blocks(built_site())
DOCS_INSTANT = FakeClock()  # where the docs harness stops wall-clock time: 2026-01-01T00:00:00Z
RUN_TIMEOUT = 60  # seconds; the slowest block waits out real retry backoffs (about 3 s)


def test_the_check_has_pythons_to_run_on() -> None:
    assert PYTHONS, "no virtualenvs given: run the copy check with `nox -s copied`"
    assert "3.11" in PYTHONS, "3.11 (Debian 12's python3) is the oldest supported version"


def test_the_check_can_freeze_the_wall_clock() -> None:
    assert LIBFAKETIME, "libfaketime not found: apt-get install faketime"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_copied_block_has_no_undefined_name(block: CopyableBlock) -> None:
    """ruff's F821 on the copied text alone: every name it uses is imported or defined in it."""
    check = subprocess.run(
        [
            *(find_ruff_bin(), "check", "--isolated", "--select", "F821"),
            *("--output-format", "concise", "--target-version", "py311"),
            *("--stdin-filename", "block.py", "-"),
        ],
        input=block.copied + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, f"{block.where}: copied alone, it uses undefined names:\n" + (
        check.stdout
    )


@pytest.mark.parametrize("python", sorted(PYTHONS))
@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_copied_block_runs_alone_and_prints_what_the_page_shows(
    block: CopyableBlock, python: str, tmp_path: Path
) -> None:
    with api_for(block.scenario) as (base_url, api_key):
        run = run_copied(block, python, tmp_path, base_url, api_key)
    where = f"{block.where} (copied, Python {python})"
    assert run.returncode == 0, f"{where}: exited {run.returncode}\n{run.stderr[-3000:]}"
    if block.printed:
        printed = run.stdout.splitlines()
        if base_url:
            printed = [line.replace(base_url, DEFAULT_BASE_URL) for line in printed]
        assert printed == block.printed, f"{where}: prints other lines than the page shows"
    assert api_key not in run.stdout + run.stderr, f"{where}: the API key was printed"


OWN_MOCK = [block for block in BLOCKS if block.scenario == "off"]


@pytest.mark.parametrize("python", sorted(PYTHONS))
@pytest.mark.parametrize("block", OWN_MOCK, ids=lambda b: b.where)
def test_copied_block_with_its_own_mock_works_whatever_promptops_base_url_says(
    block: CopyableBlock, python: str, tmp_path: Path
) -> None:
    """Its mock answers where the client points: with `PROMPTOPS_BASE_URL` set to a port where
    nothing listens, nothing may reach that port (it would be refused)."""
    with refused_port() as port:
        nowhere = f"http://127.0.0.1:{port}"
        run = run_copied(block, python, tmp_path, nowhere, MockPromptOpsAPI.api_key)
    where = f"{block.where} (copied, Python {python}, PROMPTOPS_BASE_URL={nowhere})"
    assert run.returncode == 0, f"{where}: exited {run.returncode}\n{run.stderr[-3000:]}"
    # A refusal the page shows (a block about refused connections) is the block's own.
    shown = "\n".join(block.printed)
    escaped = [word for word in (nowhere, "refused") if word in run.stdout + run.stderr]
    assert [word for word in escaped if word not in shown] == [], (
        f"{where}: a request escaped its mock"
    )


def run_copied(
    block: CopyableBlock, python: str, folder: Path, base_url: str | None, api_key: str
) -> subprocess.CompletedProcess[str]:
    """`python block.py` in `folder`, with the reader's environment, the docs' instant and
    the docs' random seed (the client jitters its waits: the page shows one draw)."""
    path = folder / "block.py"
    path.write_text(block.copied + "\n", encoding="utf-8")
    return subprocess.run(
        [PYTHONS[python], "-c", SEEDED_RUN, str(path)],
        cwd=folder,
        env={**reader_environment(folder, base_url, api_key), **frozen_wall_clock()},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def frozen_wall_clock() -> dict[str, str]:
    """Preload libfaketime: wall-clock time stopped at the docs' instant, monotonic time real."""
    assert LIBFAKETIME is not None, "libfaketime not found: apt-get install faketime"
    instant = datetime.fromtimestamp(DOCS_INSTANT.time(), UTC)
    return {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": f"{instant:%Y-%m-%d %H:%M:%S}",  # no "@": stopped, not started there
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # asyncio's timers and sleeps run on real time
        "TZ": "UTC",
    }


class DocsInstant(FakeClock):
    """The served mock's clock: wall-clock time stopped at the docs' instant, as the copied
    block's own (libfaketime); monotonic time real, as the block's, so that what the mock counts
    in time (a quota's window, a trickle) passes as the block's waits do."""

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()

    def monotonic(self) -> float:
        return time.monotonic() - self._started + super().monotonic()


@contextmanager
def api_for(scenario: str) -> Iterator[tuple[str | None, str]]:
    """(base URL, API key) of the mock API in `scenario`, served on 127.0.0.1.

    A scenario whose first request never reaches a server (a refused connection) gets the URL
    of a port where nothing listens: that is the real thing. "off" (the block brings its own
    mock) gets no base URL: the defaults, as on the page (the test above sets one).
    """
    api = MockPromptOpsAPI(clock=DocsInstant())  # stopped at the docs' instant, like the block
    key = api.api_key  # what the reader sets, even where the scenario revokes it
    if scenario == "off":
        yield None, key
        return
    if _refuses_connections(scenario):
        with refused_port() as port:
            yield f"http://127.0.0.1:{port}", key
        return
    MOCK_SCENARIOS[scenario].api(api)
    with serve(MockASGIApp(api)) as base_url:
        yield base_url, key


def _refuses_connections(scenario: str) -> bool:
    probe = MockPromptOpsAPI(clock=FakeClock())
    MOCK_SCENARIOS[scenario].api(probe)
    try:
        probe.handle(httpx.Request("GET", f"{probe.base_url}/v1/health"))
    except httpx.ConnectError:
        return True
    return False
