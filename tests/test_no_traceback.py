"""No script of this guide ever ends in a Python traceback (snippets/cli.py), whatever the
environment, the terminal or the server does.

Each console script (`[project.scripts]` in pyproject.toml) runs under each
condition of `CONDITIONS`: hostile settings (a SOCKS proxy without socksio, proxy URLs that do
not parse or name no scheme httpx knows, an IDNA host that does not decode, an API where nothing
listens, a key in quotes), a stdout the reader closed at once, and a terminal that cannot show
the French a server answers in. Each must end with a documented exit code (0, 1, 2), within a
bound, with no `Traceback` in what it prints.

Two ways, one table:

- in this process, on fake time: each script's `main()`, with stdout and stderr as the
  condition makes them (a closed pipe, an ASCII stream). Fast: no interpreter starts, no
  backoff waits. `nox -s docs` runs every script under the ASCII terminal (`ASCII_FRENCH`);
  `nox -s matrix` under the other conditions.
- in `nox -s hostile` (marker `hostile`): each script as a real process, `python -m <module>`,
  with and without `--mock`, all of them in parallel; the test prints how many runs there were
  and how many ended in a traceback. It also runs the scripts that read the health endpoint
  against a real server on 127.0.0.1 sending a `gzip, gzip` bomb, and measures their memory.

Nothing leaves 127.0.0.1: without `--mock`, the base URL is a closed port of 127.0.0.1, a server
the test runs there, or one the client refuses before sending anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib
import importlib.util
import io
import os
import selectors
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import pytest

from snippets.client.clock import FakeClock, _JumpingSelector
from snippets.mock_api import MOCK_API_KEY

from .console import is_check_tool
from .docs_blocks import ROOT
from .encoding_bomb import gzip_gzip_bomb
from .environ import clean_environment
from .hostile.servers import Exchange, hostile_servers
from .local_server import refused_port

SCRIPTS: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
    "scripts"
]
"""`promptops-doctor` -> `snippets.doctor:main`: every console script."""
QUIET_ABOUT_THE_SERVER = {
    "promptops-config-doctor": "reads settings only: nothing from the server",
    "promptops-environment-report": "reads settings only: nothing from the server",
    "promptops-network-diagnostics": "shows the code of a refusal, not its words",
    "promptops-clock-skew": "reads the Date only",
}
"""The scripts that print no text a server sent: the French server's words cannot show."""
DOCUMENTED_EXIT_CODES = (0, 1, 2)
KEY = "po_live_0123456789abcdef"
FRENCH = "Clé d'API refusée : vérifiez-la dans le tableau de bord"
SOCKSIO = importlib.util.find_spec("socksio") is not None


def quiet_line() -> str:
    """Where a new entry of QUIET_ABOUT_THE_SERVER goes: after its last one."""
    lines = Path(__file__).read_text("utf-8").splitlines()
    start = lines.index("QUIET_ABOUT_THE_SERVER = {")
    end = lines.index("}", start)
    return f"tests/test_no_traceback.py, after line {end}"


def module_of(script: str) -> str:
    """What `python -m` runs for a script: `snippets.doctor` for `snippets.doctor:main`."""
    return SCRIPTS[script].partition(":")[0]


@dataclass(frozen=True)
class Condition:
    """What a run meets, on top of a clean environment holding a key and a base URL at a
    closed port of 127.0.0.1. `{closed}` and `{french}` in a value are filled in: that port,
    and the URL of a server on 127.0.0.1 that answers every request in French (401)."""

    environ: dict[str, str] = field(default_factory=dict)
    stdout: Literal["read", "closed", "none"] = "read"
    """`closed`: the reader closed the pipe before a byte was written (`| head -0`); `none`:
    the script started without a stdout or a stderr at all (`>&- 2>&-`, as some service
    managers start programs), so Python's are None."""
    encoding: str | None = None
    """`PYTHONIOENCODING`: what stdout and stderr can encode."""


CONDITIONS: dict[str, Condition] = {
    "ALL_PROXY=socks5://proxy:1080": Condition({"ALL_PROXY": "socks5://proxy:1080"}),
    "HTTP_PROXY='http://[::1'": Condition({"HTTP_PROXY": "http://[::1"}),
    "HTTP_PROXY=ftp://proxy": Condition({"HTTP_PROXY": "ftp://proxy"}),
    "HTTPS_PROXY='http://[::1'": Condition(
        {"HTTPS_PROXY": "http://[::1", "PROMPTOPS_BASE_URL": "https://127.0.0.1:{closed}"}
    ),
    "PROMPTOPS_BASE_URL=https://xn--a.com": Condition({"PROMPTOPS_BASE_URL": "https://xn--a.com"}),
    "PROMPTOPS_BASE_URL=http://127.0.0.1:1": Condition(
        {"PROMPTOPS_BASE_URL": "http://127.0.0.1:1"}
    ),
    "stdout closed early": Condition(stdout="closed"),
    "no stdout nor stderr (>&- 2>&-)": Condition(stdout="none"),
    "PYTHONIOENCODING=ascii, the server in French": Condition(
        {"PROMPTOPS_BASE_URL": "{french}"}, encoding="ascii"
    ),
    "a key in quotes": Condition({"PROMPTOPS_API_KEY": f'"{KEY}"'}),
}


def skip_unless_safe(name: str) -> None:
    """With socksio installed, a SOCKS proxy named `proxy` would be looked up and connected
    to: beyond 127.0.0.1. Without it, the client refuses it before anything is sent."""
    if name.startswith("ALL_PROXY=socks5") and SOCKSIO:
        pytest.skip("socksio is installed: the client would use the SOCKS proxy")


async def in_french(x: Exchange) -> None:
    """The public health endpoint answers; every call with the key is refused in French, as
    by a gateway that speaks its users' language."""
    date = f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
    if x.path == "/v1/health":
        await x.answer(200, {"success": True, "data": {"status": "healthy"}}, headers=date)
        return
    error = {"code": "AUTHENTICATION_ERROR", "message": FRENCH}
    await x.answer(401, {"success": False, "error": error}, headers=date)


@dataclass(frozen=True)
class Places:
    """Where, on 127.0.0.1, the runs point."""

    closed: int
    french: str

    def environ(self, condition: Condition) -> dict[str, str]:
        values = {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": "http://127.0.0.1:{closed}"}
        values.update(condition.environ)
        return {
            name: value.format(closed=self.closed, french=self.french)
            for name, value in values.items()
        }


@pytest.fixture(scope="module")
def places() -> Iterator[Places]:
    with refused_port() as closed, hostile_servers({"french": in_french}) as running:
        yield Places(closed, running.urls["french"])


@dataclass(frozen=True)
class Run:
    script: str
    condition: str
    mock: bool
    code: int | None
    """None: it did not end within the bound (killed)."""
    out: str
    err: str
    seconds: float
    timers_waited_for_real: int = 0
    """In this process: the times its fake clock's loop waited in real time for a timer (see
    `count_timers_waited_for_real`)."""

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.out + self.err

    @property
    def unexpected(self) -> bool:
        """It ended in the runner's last resort: one line, but saying it is a bug."""
        return ": unexpected error, " in self.err

    def problem(self, bound: float) -> str | None:
        if self.traceback:
            return "ended in a traceback"
        if self.unexpected:
            return "ended in an unexpected error (one line, but a bug)"
        if self.code is None:
            return f"did not end within {bound:g} s"
        if self.code not in DOCUMENTED_EXIT_CODES:
            return f"exit code {self.code}"
        return None

    def __str__(self) -> str:
        mode = " --mock" if self.mock else ""
        return f"{self.script}{mode} [{self.condition}]: exit {self.code}, {self.seconds:.1f} s"


# -- in this process, on fake time (nox -s matrix, nox -s docs) ---------------------------------


def count_timers_waited_for_real(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Until `monkeypatch` is undone: the timeout of every wait in which a fake clock's event
    loop waited in real time for a timer (a backoff, a deadline) and the timer came first. It
    waits in real time while a socket is watched or work runs on a thread (see
    `FakeClock.event_loop`); a wait that then ends with nothing ready was a timer's. A count,
    the same on any machine, where the run's duration is not."""
    waited: list[float] = []
    select = _JumpingSelector.select

    def counted(
        self: _JumpingSelector, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        for_real = len(self.get_map()) > self.own_files or self.working
        ready = select(self, timeout)
        if for_real and timeout and not ready:
            waited.append(timeout)
        return ready

    monkeypatch.setattr(_JumpingSelector, "select", counted)
    return waited


def on_fake_time[T](main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` for the scripts run here: on a fake clock's loop, so that the client's
    backoff and the tools' deadlines take no real time (real sockets still take theirs). The
    clock starts at the real time: the servers here send the real `Date`."""
    with asyncio.Runner(loop_factory=FakeClock(time.time()).event_loop) as runner:
        return runner.run(main)


class _Pipe:
    """stdout as a pipe whose reader is gone: every flush fails with BrokenPipeError."""

    def __init__(self) -> None:
        read, self.write = os.pipe()
        os.close(read)
        self.stream = open(self.write, "w", encoding="utf-8", closefd=False)  # noqa: SIM115

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.close()  # already pointed at /dev/null by the script, or not
        os.close(self.write)


def run_main(
    script: str,
    argv: list[str],
    environ: dict[str, str],
    condition: Condition,
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    """`main(argv)` of `script` in this process, with this environment and these streams."""
    module_name, _, function = SCRIPTS[script].partition(":")
    main: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), function)
    clean_environment(monkeypatch)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(asyncio, "run", on_fake_time)
    timers_waited_for_real = count_timers_waited_for_real(monkeypatch)
    encoding = condition.encoding or "utf-8"
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()

    def stream(into: io.BytesIO) -> TextIO:
        return io.TextIOWrapper(into, encoding=encoding, errors="strict", write_through=True)

    pipe = _Pipe() if condition.stdout == "closed" else None
    out: TextIO | None = None  # what Python makes of a closed file descriptor
    err: TextIO | None = None
    if condition.stdout != "none":
        out, err = pipe.stream if pipe else stream(out_bytes), stream(err_bytes)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    started = time.perf_counter()
    try:
        code: int | None = main(argv)
        assert (sys.stdout, sys.stderr) == (out, err), "the script's streams were left in place"
    except SystemExit as exit_:  # argparse
        code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        monkeypatch.undo()
        if pipe:
            pipe.close()
    seconds = time.perf_counter() - started
    return Run(
        script,
        "",
        "--mock" in argv,
        code,
        out_bytes.getvalue().decode(encoding),
        err_bytes.getvalue().decode(encoding),
        seconds,
        len(timers_waited_for_real),
    )


IN_PROCESS_BOUND = 10.0
"""Real seconds a run here may take, for `Run.problem`: a run here always ends (fake time makes
it short, whatever the machine: `timers_waited_for_real` is 0)."""


ASCII_FRENCH = "PYTHONIOENCODING=ascii, the server in French"
"""The condition every script meets in `nox -s docs` too: a new script that shows nothing a
server says fails it until QUIET_ABOUT_THE_SERVER names it. The others: `nox -s matrix`."""


@pytest.mark.parametrize(
    "condition",
    [pytest.param(c, marks=() if c == ASCII_FRENCH else pytest.mark.matrix) for c in CONDITIONS],
)
@pytest.mark.parametrize("script", SCRIPTS)
def test_no_script_raises_under_a_hostile_condition(
    script: str, condition: str, places: Places, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process: an exception out of `main` is what a traceback is made of."""
    skip_unless_safe(condition)
    setup = CONDITIONS[condition]
    run = run_main(script, [], places.environ(setup), setup, monkeypatch)
    assert run.problem(IN_PROCESS_BOUND) is None, f"{run}\n{run.err}"
    assert run.timers_waited_for_real == 0  # on fake time, every backoff and deadline jumped
    if setup.encoding == "ascii":
        assert run.out.isascii() and run.err.isascii()
        assert "\\xe9" in run.out + run.err or script in QUIET_ABOUT_THE_SERVER, (
            "the server's French never reached the terminal: the condition tested nothing. If "
            f"{script} prints no text a server sends, add it to QUIET_ABOUT_THE_SERVER "
            f'({quiet_line()}):\n    {script!r}: "why it shows nothing the server says",'
        )
    assert KEY not in run.out + run.err


def test_the_french_server_s_words_reach_the_terminal_escaped(
    places: Places, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the ASCII condition is about: `é` shown as `\\xe9`, not a UnicodeEncodeError."""
    setup = CONDITIONS[ASCII_FRENCH]
    run = run_main("promptops-profiler", [], places.environ(setup), setup, monkeypatch)
    assert run.code == 2
    assert run.err == (
        "promptops-profiler: AUTHENTICATION_ERROR: Cl\\xe9 d'API refus\\xe9e : v\\xe9rifiez-la "
        "dans le tableau de bord\n"
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_runs_with_mock_and_a_check_tool_says_it_is_simulated(
    script: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = run_main(script, ["--mock"], {}, Condition(), monkeypatch)
    assert (run.code, run.err) == (0, ""), f"{run}\n{run.err}"
    first = run.out.splitlines()[0]
    if is_check_tool(script):
        title = script.removeprefix("promptops-").replace("-", " ")
        assert first == (
            f"PromptOps {title}: https://api.promptops.com (simulated API: --mock healthy)"
        )
    assert MOCK_API_KEY not in run.out


@pytest.mark.parametrize("script", SCRIPTS)
def test_mock_sets_the_machine_s_hostile_settings_aside(
    script: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every hostile setting at once: --mock runs on the mock's settings alone, and puts the
    machine's back after."""
    hostile = {
        "ALL_PROXY": "socks5://proxy:1080",
        "HTTP_PROXY": "ftp://proxy",
        "HTTPS_PROXY": "http://[::1",
        "PROMPTOPS_BASE_URL": "https://xn--a.com",
        "PROMPTOPS_API_KEY": f'"{KEY}"',
        "SSL_CERT_FILE": "/nonexistent/ca.pem",
        "REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem",
    }
    run = run_main(script, ["--mock"], hostile, Condition(), monkeypatch)
    assert (run.code, run.err) == (0, ""), f"{run}\n{run.err}"
    assert os.environ.get("HTTPS_PROXY") != "http://[::1"  # the test's monkeypatch undone


@pytest.mark.parametrize("script", ["promptops-profiler", "promptops-debug-client"])
def test_mock_says_nothing_of_this_machine_s_ca_variables(
    script: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A simulated run is the same everywhere: Debian and Ubuntu machines often set
    REQUESTS_CA_BUNDLE for requests, and the client notes it (a warning on stderr) when it
    reads the settings: --mock sets it aside with the other CA variables."""
    environ = {"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca.pem", "CURL_CA_BUNDLE": "/etc/ca.pem"}
    run = run_main(script, ["--mock"], environ, Condition(), monkeypatch)
    assert run.code == 0
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []


# -- as real processes, in parallel (nox -s hostile) --------------------------------------------

PROCESS_BOUND = 60.0
"""Real seconds a run may take: the slowest, a script that retries a closed port with backoff,
takes a few."""


def python_env(environ: dict[str, str], condition: Condition) -> dict[str, str]:
    """A child's environment: this one's, minus every setting the client reads, plus these."""
    child = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith("PROMPTOPS_") or name.lower().endswith("_proxy"))
        and name not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
        and not name.startswith("PYTHONIOENCODING")
    }
    # As on many Debian machines: --mock must set it aside (its runs print nothing on stderr)
    child["REQUESTS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"
    child.update(environ)
    if condition.encoding:
        child["PYTHONIOENCODING"] = condition.encoding
    return child


async def run_process(
    script: str, condition_name: str, mock: bool, places: Places, limit: asyncio.Semaphore
) -> Run:
    condition = CONDITIONS[condition_name]
    argv = [sys.executable, "-m", module_of(script), *(["--mock"] if mock else [])]
    if condition.stdout == "none":  # started by a shell that closed both
        argv = ["/bin/sh", "-c", 'exec "$@" >&- 2>&-', "sh", *argv]
    env = python_env(places.environ(condition), condition)
    async with limit:
        started = time.perf_counter()
        read, write = os.pipe()
        if condition.stdout == "closed":
            os.close(read)  # the reader is gone before the script starts
            stdout: int = write
        else:
            os.close(write)
            os.close(read)
            stdout = asyncio.subprocess.PIPE
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE
            )  # without stdout nor stderr, only the exit code says what happened
        finally:
            if condition.stdout == "closed":
                os.close(write)
        try:
            async with asyncio.timeout(PROCESS_BOUND):
                out, err = await process.communicate()
            code: int | None = process.returncode
        except TimeoutError:
            process.kill()
            out, err = await process.communicate()
            code = None
    return Run(
        script,
        condition_name,
        mock,
        code,
        (out or b"").decode(errors="replace"),
        err.decode(errors="replace"),
        time.perf_counter() - started,
    )


def run_all(places: Places) -> list[Run]:
    """Every script under every condition, with and without --mock, `os.cpu_count()` at a
    time."""

    async def main() -> list[Run]:
        limit = asyncio.Semaphore(os.cpu_count() or 2)
        runs = [
            run_process(script, condition, mock, places, limit)
            for script in SCRIPTS
            for condition in CONDITIONS
            if not (condition.startswith("ALL_PROXY=socks5") and SOCKSIO)
            for mock in (False, True)
        ]
        return await asyncio.gather(*runs)

    return asyncio.run(main())


@pytest.mark.hostile
def test_no_script_process_ends_in_a_traceback_under_any_condition(
    places: Places, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = run_all(places)
    problems = [
        f"{run}: {run.problem(PROCESS_BOUND)}\n{run.err}"
        for run in runs
        if run.problem(PROCESS_BOUND)
    ]
    tracebacks = sum(run.traceback for run in runs)
    summary = (
        f"{len(runs)} runs ({len(SCRIPTS)} scripts, {len(CONDITIONS)} conditions, with and "
        f"without --mock): {tracebacks} ended in a traceback, {len(problems)} with a problem; "
        f"the slowest took {max(run.seconds for run in runs):.1f} s"
    )
    with capsys.disabled():
        print(f"\n{summary}")
    assert not problems, summary + "\n" + "\n".join(problems)
    noisy = [f"{run}: {run.err}" for run in runs if run.mock and run.err]
    assert not noisy, "a --mock run said something on stderr:\n" + "\n".join(noisy)
    assert not any(KEY in run.out + run.err for run in runs)


@pytest.mark.hostile
def test_the_doctor_s_json_piped_into_a_reader_that_closes_at_once_ends_quietly(
    places: Places,
) -> None:
    """The case the issue names: `promptops-doctor --mock --json | grep -q x`."""

    async def main() -> Run:
        return await run_process(
            "promptops-doctor", "stdout closed early", True, places, asyncio.Semaphore(1)
        )

    run = asyncio.run(main())
    assert (run.code, run.err) == (0, "")


async def bomb(x: Exchange) -> None:
    """The health endpoint's answer as 2.5 KB of `gzip, gzip`: 1 GiB once decoded."""
    body = gzip_gzip_bomb()
    await x.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip, gzip\r\n"
        + f"Date: {email.utils.formatdate(usegmt=True)}\r\n".encode()
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


MEMORY_LIMIT_KB = 100 * 1024
"""A script's peak memory (RSS) against the bomb: under 100 MB (it once took 2 GB)."""
MEASURED = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print(f"peak RSS: {usage.ru_maxrss} KB", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command and says its peak memory, as `/usr/bin/time -f %M` does. Not measured from
the test's own process: a child's peak counts the memory of the process it was forked from,
and pytest's is hundreds of megabytes; this small one's is a few."""


@pytest.mark.hostile
def test_the_bomb_really_expands_to_a_gigabyte() -> None:
    """What the in-memory tests trust: decoded whole, 8 MiB at a time, 1 GiB of zeros with a
    valid gzip trailer (the CRC constant is right)."""
    import zlib

    outer = zlib.decompress(gzip_gzip_bomb(), 31)
    decoder, size, pending = zlib.decompressobj(31), 0, outer
    while pending:
        piece = decoder.decompress(pending, 8 << 20)
        size += len(piece)
        assert not piece.strip(b"\0")
        pending = decoder.unconsumed_tail
    size += len(decoder.flush())
    assert decoder.eof and size == 1 << 30


@pytest.mark.hostile
@pytest.mark.parametrize(
    ("script", "line"),
    [
        ("promptops-clock-skew", "FAIL  Clock skew            SERVER_ERROR: GET /v1/health"),
        ("promptops-doctor", "FAIL  Public health         SERVER_ERROR: GET /v1/health"),
        ("promptops-network-diagnostics", "FAIL  Public health         SERVER_ERROR: GET"),
    ],
)
def test_a_gzip_gzip_bomb_on_the_health_endpoint_is_refused_within_100_mb(
    script: str, line: str
) -> None:
    """A real server on 127.0.0.1, a real process: its peak memory (RSS) measured by the OS."""
    gzip_gzip_bomb()
    with hostile_servers({"bomb": bomb}) as running:
        env = python_env(
            {"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": running.urls["bomb"]}, Condition()
        )
        process = subprocess.run(
            [sys.executable, "-c", MEASURED, sys.executable, "-m", module_of(script)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=PROCESS_BOUND,
            check=False,
        )
    *shown, measured = process.stdout.decode().splitlines()
    assert process.returncode == 2, shown
    assert any(text.startswith(line) for text in shown), shown
    assert "once decompressed, over the 65536 byte limit" in "\n".join(shown)
    assert "Traceback" not in "\n".join(shown)
    peak = int(measured.removeprefix("peak RSS: ").removesuffix(" KB"))
    assert peak < MEMORY_LIMIT_KB, measured
