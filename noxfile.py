"""Sessions: `docs` (strict build + every test, what CI runs), `serve`, `lint`, `generate`,
`update`, and the slower checks CI also runs: `hostile`, `schemathesis`, `browser`.

Every session installs the locked versions from uv.lock into its own virtualenv, so a fresh
machine needs only `python3 -m pip install uv nox` first.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nox

PYTHON = "3.12"

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "docs"]

# uv must not download interpreters (it cannot here); use the machine's own.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
# These machines set PYTHONDONTWRITEBYTECODE: every process then recompiles some 750 modules
# (about 2 s) before running anything. Cache bytecode, and precompile the venvs at install.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")


def _expose_pyenv_pythons() -> None:
    """With pyenv, only the global version resolves; make every installed 3.12+ visible too."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    if not (root / "versions").is_dir():
        return
    # pyenv's shim exports PYENV_VERSION (the global version) to the Python it runs: extend it.
    active = os.environ.get("PYENV_VERSION", "").split(":")
    if not active[0] and (root / "version").exists():
        active = (root / "version").read_text().split()
    modern = sorted(
        p.name for p in (root / "versions").iterdir() if re.fullmatch(r"3\.(1[2-9])\.\d+", p.name)
    )
    os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys([*active, *modern]))


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
    """Build the site strictly, then run every test (docs examples, snippets, client, mock)."""
    _install(session, "docs", "test")
    # Not --quiet: it hides warnings from --strict, so a broken link would pass.
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    # Both cores: each test is small, and a worker starts in about a second.
    session.run("pytest", "-n", "2", *session.posargs, env={"DOCS_SITE_DIR": "site"})


@nox.session(python=PYTHON)
def hostile(session: nox.Session) -> None:
    """The client against misbehaving servers on 127.0.0.1, in real time (a few seconds)."""
    _install(session, "test")
    session.run("pytest", "-m", "hostile", "tests/hostile", *session.posargs)


@nox.session(python=PYTHON)
def schemathesis(session: nox.Session) -> None:
    """Schemathesis against the mock API served over HTTP (seeded, bounded; about 10 s)."""
    _install(session, "schemathesis")
    session.run("pytest", "-m", "schemathesis", "tests/fuzz", "-s", *session.posargs)


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Serve the site with live reload at http://127.0.0.1:8000."""
    _install(session, "docs")
    session.run("mkdocs", "serve", "--dev-addr", "127.0.0.1:8000", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, mypy --strict."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Rewrite generated docs content (the error matrix) from its source in code."""
    _install(session)
    session.run("python", "-m", "snippets.generate")


@nox.session(python=PYTHON)
def update(session: nox.Session) -> None:
    """After an intended change: regenerate includes, fix and format the docs' examples, and
    rewrite their `#>` outputs from what they print now. Review the diff, then commit."""
    _install(session, "test")
    session.run("python", "-m", "snippets.generate")
    # Outputs first (placed and indented under the line that printed), then ruff's fixes and
    # formatting, which leave indented `#>` lines alone.
    session.run("pytest", "tests/test_docs.py", "--update-examples", *session.posargs)
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
    """Build and serve the site on 127.0.0.1, and check it in Debian's Chromium (Playwright).

    Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). Screenshots of
    every page go to screenshots/.
    """
    _install(session, "browser")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    session.run(
        "pytest", "-m", "browser", "tests/browser", *session.posargs, env={"DOCS_SITE_DIR": "site"}
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

    Rewrites docs/includes/benchmarks.md, which the performance page shows, and
    .benchmarks/latest.json. The docs build never runs benchmarks; commit the table yourself.
    """
    _install(session, "docs", "test")
    start = time.perf_counter()
    session.run(sys.executable, "-m", "nox", "-s", "docs", external=True, silent=True)
    docs_seconds = time.perf_counter() - start
    session.run("python", "-m", "tests.benchmarks.bench", "--docs-seconds", f"{docs_seconds:.1f}")
