"""The built site: the one `nox -s docs` builds (`DOCS_SITE_DIR`), or a fresh build.

`nox -s docs` builds the site while the tests run (the build takes one core for seconds); it
holds an exclusive lock on `$DOCS_SITE_BUILD.lock` until the build ends, and writes the build's
exit code to `.status` and its output to `.log`. Tests that read the site wait on that lock, and
run last (the `built_site` marker), so the wait is short or none.

Under plain `pytest` the first test that reads the site builds it, once a process. Either way a
build that failed fails that test and every later one at once, with the build's warnings.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from ..docs_blocks import ROOT


def built_site() -> Path:
    site = _site_or_failure()
    if isinstance(site, str):
        pytest.fail(site, pytrace=False)
    return site


@cache
def _site_or_failure() -> Path | str:
    """The site's directory, or what made its build fail: kept, failure too, for the process."""
    given = os.environ.get("DOCS_SITE_DIR")
    if not given:
        return _build_here()
    building = os.environ.get("DOCS_SITE_BUILD")
    if building:
        problems = _wait_for_the_build(Path(building))
        if problems is not None:
            return _failure(problems)
    return Path(given).resolve()


def _wait_for_the_build(base: Path) -> list[str] | None:
    """Block until nox's `mkdocs build --strict` ends; its warnings if it failed (nox prints its
    whole output at the end of the run), else None."""
    import fcntl  # POSIX, as `nox -s docs` is that builds alongside

    with open(base.with_suffix(".lock")) as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
    if base.with_suffix(".status").read_text() == "0":
        return None
    output = base.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    return [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]


class _Problems(logging.Handler):
    """The warnings and errors MkDocs logs, as its command line shows them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname:<8}-  {record.getMessage()}")


def _build_here() -> Path | str:
    """Build the site strictly (mkdocs.yml says so) into a temporary directory."""
    site = Path(tempfile.mkdtemp(prefix="site-"))
    problems = _Problems()
    mkdocs_logger = logging.getLogger("mkdocs")
    mkdocs_logger.addHandler(problems)
    try:
        build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site)))
    except MkDocsException as exc:  # strict mode's Abort, a configuration or plugin error
        shutil.rmtree(site, ignore_errors=True)
        return _failure([*problems.lines, f"{type(exc).__name__}: {exc}"])
    finally:
        mkdocs_logger.removeHandler(problems)
    return site


def _failure(problems: list[str]) -> str:
    return "\n".join(["`mkdocs build --strict` failed:", *problems])
