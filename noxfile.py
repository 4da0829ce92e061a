"""Sessions: `docs` (strict build + the pages' examples and tests, about 10 s) and `matrix` (the
tables of cases), which the README's test command runs; `serve`, `lint`, `generate`,
`update`, the slower checks CI also runs: `hostile`, `schemathesis`, `spectral`, `browser`,
and `live` (the guide against a real API; CI runs it against two servers it starts itself).

Every session installs the locked versions from uv.lock into its own virtualenv, so a fresh
machine needs only `python3 -m pip install uv nox` first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nox

PYTHON = "3.12"

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "docs", "matrix"]

# What readers install and copy supports these; the copy check runs on each one found here.
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
# These machines set PYTHONDONTWRITEBYTECODE: every process then recompiles some 750 modules
# (about 2 s) before running anything. Cache bytecode, and precompile the venvs at install.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")


def _expose_pyenv_pythons() -> None:
    """With pyenv, only the global version resolves: put every installed 3.11+ on PATH, so
    that nox and uv find `python3.12` and friends, even when nox itself runs on a python3 that
    is not pyenv's (Debian's /usr/bin/python3, say)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    if not (root / "versions").is_dir():
        return
    modern = sorted(
        p / "bin" for p in (root / "versions").iterdir() if re.fullmatch(r"3\.1[1-9]\.\d+", p.name)
    )
    os.environ["PATH"] = os.pathsep.join([*map(str, modern), os.environ.get("PATH", "")])


_expose_pyenv_pythons()


def _install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install the project and the given dependency groups at their locked versions."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--no-default-groups",
        *([] if project else ["--no-install-project"]),
        *(f"--group={group}" for group in groups),
        env={"UV_PROJECT_ENVIRONMENT": str(session.virtualenv.location)},
        silent=True,
    )


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the site strictly and run every test (docs examples, snippets, client, mock)."""
    _install(session, "docs", "test")
    with _building_site(session, "site") as site_env:
        # Both cores: each test is small, and a worker starts in about a second.
        # worksteal: a worker that runs out takes tests from the other (a few are slow).
        session.run("pytest", "-n", "2", "--dist", "worksteal", *session.posargs, env=site_env)


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """The tables of cases (marker `matrix`): each tool's report and JSON and every endpoint
    against the contract in every mock scenario but the healthy one, which `nox -s docs` runs
    (tests/scenarios.py, `each_scenario`); the fault matrix, the malformed answers, generated
    input (Hypothesis), every script under every hostile condition, the two-minute limiter
    simulations. About 10 s."""
    _install(session, "docs", "test")
    session.run("pytest", "-m", "matrix", "-n", "2", "--dist", "worksteal", *session.posargs)


@contextmanager
def _building_site(session: nox.Session, site: str) -> Iterator[dict[str, str]]:
    """`mkdocs build --strict` into `site` while the block runs; an error, with the build's
    output, if it fails.

    The build keeps one core busy for seconds, while pytest's workers spend their first second
    or two starting: together they take less time than one after the other. The tests that read
    the site run last and wait for the build (tests/site/built_site.py): it holds an exclusive
    lock on `<base>.lock` until it ends, then leaves its exit code in `<base>.status`.
    """
    import fcntl  # POSIX: imported here so that the other sessions run anywhere

    base = Path(session.virtualenv.location).resolve() / "site-build"  # not create_tmp: TMPDIR
    lock, status, log = (base.with_suffix(s) for s in (".lock", ".status", ".log"))
    status.unlink(missing_ok=True)
    env = {**os.environ, "PATH": os.pathsep.join([session.bin, os.environ.get("PATH", "")])}
    session.log(f"mkdocs build --strict --site-dir {site} (alongside the tests)")
    with open(lock, "w") as held, open(log, "wb") as written:
        fcntl.flock(held, fcntl.LOCK_EX)
        # Not --quiet: it hides warnings from --strict, so a broken link would pass.
        build = subprocess.Popen(
            [str(Path(session.bin) / "mkdocs"), "build", "--strict", "--site-dir", site],
            stdout=written,
            stderr=subprocess.STDOUT,
            env=env,
        )

        def finish() -> None:
            status.write_text(str(build.wait()))
            fcntl.flock(held, fcntl.LOCK_UN)

        waiter = threading.Thread(target=finish, name="mkdocs-build")
        waiter.start()
        try:
            yield {"DOCS_SITE_DIR": site, "DOCS_SITE_BUILD": str(base)}
        finally:
            waiter.join()
            output = log.read_text(errors="replace")
            if status.read_text() != "0":  # the first thing to fix, even when tests failed too
                session.error(f"mkdocs build --strict failed:\n{output}")
    session.log(f"mkdocs: {output.strip().splitlines()[-1].strip()}")  # "Documentation built in"


@nox.session(python=PYTHON)
def copied(session: nox.Session) -> None:
    """Run every Python block as a reader copies it from the built site: alone, in a fresh
    virtualenv holding only this project's wheel, on each supported Python found here, against
    the mock API over HTTP. See tests/copied/test_copied_blocks.py.

    First, a contributor's copy: ARCHITECTURE.md's recipe for a page and its tool, followed in a
    copy of the repository, passes the checks, and each step left out fails them naming its
    file (tests/test_recipes.py, about a minute)."""
    _install(session, "docs", "test")
    session.run("pytest", "-m", "recipe", "tests/test_recipes.py", "-n", "2")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    work = Path(session.create_tmp()).resolve() / "copied"
    session.run("uv", "build", "--wheel", "--out-dir", str(work / "dist"), silent=True)
    (wheel,) = (work / "dist").glob("*.whl")
    locked = work / "locked.txt"  # the runtime dependencies, at the versions in uv.lock
    session.run(
        *("uv", "export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes"),
        *("--output-file", str(locked)),
        silent=True,
    )
    pythons = {}
    for version in SUPPORTED_PYTHONS:
        found = _find_python(session, version)
        if found is None:
            session.warn(f"Python {version} is not on this machine: not checked")
            continue
        venv = work / f"venv-{version}"
        session.run("uv", "venv", "--quiet", "--clear", "--python", found, str(venv))
        python = str(venv / "bin" / "python")
        session.run(
            *("uv", "pip", "install", "--quiet", "--python", python, str(wheel), "-c", str(locked))
        )
        pythons[version] = python
    session.log(f"copy check on Python {', '.join(pythons)}")
    session.run(
        *("pytest", "-m", "copied", "tests/copied", "-n", "4", *session.posargs),
        env={"DOCS_SITE_DIR": "site", "COPY_CHECK_PYTHONS": json.dumps(pythons)},
    )


def _find_python(session: nox.Session, version: str) -> str | None:
    """The machine's interpreter for `version`, without downloading one."""
    found = session.run(
        "uv",
        "python",
        "find",
        "--no-project",
        "--no-python-downloads",
        version,
        silent=True,
        success_codes=[0, 2],
        log=False,
    )
    path = str(found or "").strip()
    return path if path.startswith("/") else None


# The Node tools that read the OpenAPI document, at pinned versions (npm; Node 20 or newer).
PRISM = "@stoplight/prism-cli@5.14.2"
SPECTRAL = "@stoplight/spectral-cli@6.16.3"


def _npm_tool(session: nox.Session, package: str, command: str) -> str:
    """Install an npm package into the session's own folder (npm's cache makes it quick the
    second time); the path of its `command`."""
    prefix = Path(session.create_tmp()).resolve() / "npm"
    session.run(
        *("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix)),
        package,
        external=True,
        silent=True,
    )
    return str(prefix / "node_modules" / ".bin" / command)


@nox.session(python=PYTHON)
def spectral(session: nox.Session) -> None:
    """Spectral's `spectral:oas` ruleset on docs/reference/openapi.yaml (.spectral.yaml): no
    error, no warning."""
    lint_openapi = _npm_tool(session, SPECTRAL, "spectral")
    session.run(
        *(lint_openapi, "lint", "--ruleset", ".spectral.yaml", "--fail-severity", "hint"),
        "docs/reference/openapi.yaml",
        external=True,
    )


@nox.session(python=PYTHON)
def live(session: nox.Session) -> None:
    """The guide against a real PromptOps API: PROMPTOPS_BASE_URL and PROMPTOPS_API_KEY.

    Schemathesis on the contract's read-only operations, the doctor and the health check, and
    every block that needs no mock scenario, copied from the built site and run alone in a
    fresh virtualenv holding only the wheel. `nox -s live -- --serve mock` or `-- --serve
    prism` starts that server first (the mock over HTTP; Prism's mock server generated from the
    OpenAPI document). See tests/live/run.py.
    """
    _install(session, "docs", "schemathesis")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", silent=True)
    work = Path(session.create_tmp()).resolve() / "live"
    python = _reader_venv(session, work, "3.12")
    args = list(session.posargs)
    if "prism" in args:
        args += ["--prism", _npm_tool(session, PRISM, "prism")]
    session.run(
        *("python", "-m", "tests.live.run", "--site", "site", "--python", python),
        *("--work", str(work / "logs"), *args),
    )


def _reader_venv(session: nox.Session, work: Path, version: str) -> str:
    """A fresh virtualenv of Python `version` holding only this project's wheel and its locked
    runtime dependencies, as a reader installs it; its python."""
    session.run("uv", "build", "--wheel", "--out-dir", str(work / "dist"), silent=True)
    (wheel,) = (work / "dist").glob("*.whl")
    locked = work / "locked.txt"  # the runtime dependencies, at the versions in uv.lock
    session.run(
        *("uv", "export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes"),
        *("--output-file", str(locked)),
        silent=True,
    )
    found = _find_python(session, version)
    if found is None:
        session.error(f"Python {version} is not on this machine")
    venv = work / f"venv-{version}"
    session.run("uv", "venv", "--quiet", "--clear", "--python", found, str(venv))
    python = str(venv / "bin" / "python")
    session.run(
        *("uv", "pip", "install", "--quiet", "--python", python, str(wheel), "-c", str(locked))
    )
    return python


@nox.session(python=PYTHON)
def hostile(session: nox.Session) -> None:
    """The client against misbehaving servers on 127.0.0.1, the served mock against malformed
    requests, in real time, every script as a real process under hostile conditions, and the
    examples and tests that wait in real time on real connections (a minute or two)."""
    _install(session, "docs", "test")  # it collects every test module, the site tests too
    # tests/hostile; tests/test_no_traceback.py: every script as a real process, under every
    # condition; and every test that waits in real time on a real connection (`real_time`: the
    # pages' proofs that only a real connection shows, servers on 127.0.0.1 started and stopped).
    session.run("pytest", "-m", "hostile or real_time", *session.posargs)


@nox.session(python=PYTHON)
def schemathesis(session: nox.Session) -> None:
    """Schemathesis against the mock API served over HTTP (seeded, bounded; about 10 s)."""
    _install(session, "schemathesis")
    session.run("pytest", "-m", "schemathesis", "tests/fuzz", "-s", *session.posargs)


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Serve the site with live reload at http://127.0.0.1:8000."""
    _install(session, "docs")
    # Also reload when a snippet changes: the pages include them.
    session.run(
        *("mkdocs", "serve", "--dev-addr", "127.0.0.1:8000", "--watch", "snippets"),
        *session.posargs,
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, the layers of snippets/ (import-linter), mypy --strict."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("lint-imports")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    # What readers install runs on 3.11: check the package against 3.11's standard library.
    session.run("mypy", "--python-version", "3.11", "snippets")


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Rewrite generated docs content (the error matrix, the contract's rules) from its source."""
    _install(session, "test")  # pyyaml reads the OpenAPI document
    session.run("python", "-m", "snippets.generate")


@nox.session(python=PYTHON)
def update(session: nox.Session) -> None:
    """After an intended change: regenerate includes, fix and format the docs' examples, and
    rewrite their `#>` outputs from what they print now. Review the diff, then commit."""
    _install(session, "test")
    session.run("python", "-m", "snippets.generate")
    # Outputs first (placed and indented under the line that printed), then ruff's fixes and
    # formatting, which leave indented `#>` lines alone.
    # One file at a time: each rewrites pages, and a page may hold both kinds of block.
    session.run("pytest", "tests/test_docs.py", "--update-examples", *session.posargs)
    session.run("pytest", "tests/test_console.py", "--update-examples", *session.posargs)
    session.run("python", "-m", "tests.docs_lint", "--fix")


@nox.session(python=PYTHON)
def mutate(session: nox.Session) -> None:
    """Mutation testing: mutmut over snippets/ with the whole suite, then every docs mutant.

    Takes minutes, so CI does not run it. Reports killed/total for both kinds.
    """
    # Not installed: mutmut runs the suite in mutants/, which must import its own mutated copy.
    _install(session, "mutate", project=False)
    session.run("mutmut", "run", "--max-children", str(os.cpu_count() or 2), success_codes=[0, 1])
    session.run("mutmut", "export-cicd-stats", silent=True)
    session.run("python", "-m", "tests.mutation_report", "mutants/mutmut-cicd-stats.json")
    session.run("pytest", "tests/mutate_docs.py", "-q", success_codes=[0, 1])


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """Build and serve the site on 127.0.0.1, and check it in Debian's Chromium (Playwright):
    every page in light and dark at 1280 and 390 px (axe-core, layout), and symptom search.

    Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). Screenshots of
    every page in each view go to screenshots/.
    """
    _install(session, "browser")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    # Two Chromiums: each view of the pages (and the search) stays on one worker, loaded once.
    session.run(
        *("pytest", "-m", "browser", "tests/browser", "-n", "2", "--dist", "loadgroup"),
        *session.posargs,
        env={"DOCS_SITE_DIR": "site"},
    )


@nox.session(python=PYTHON)
def zensical(session: nox.Session) -> None:
    """Build the same mkdocs.yml with Zensical and report what differs (informational)."""
    _install(session, "zensical", "test")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    session.run("zensical", "build", "--strict", "--config-file", "mkdocs.zensical.yml")
    session.run("python", "-m", "tests.site.compare_zensical", "site", "site-zensical")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time a warm `nox -s docs`, then run the benchmarks (ratios measured in one run).

    Rewrites docs/includes/benchmarks.md, which the contributing page shows, and
    .benchmarks/latest.json. The docs build never runs benchmarks; commit the table yourself.
    """
    _install(session, "docs", "test")
    start = time.perf_counter()
    session.run(sys.executable, "-m", "nox", "-s", "docs", external=True, silent=True)
    docs_seconds = time.perf_counter() - start
    session.run("python", "-m", "tests.benchmarks.bench", "--docs-seconds", f"{docs_seconds:.1f}")
