"""The built site: the one `nox -s docs` builds (`DOCS_SITE_DIR`), or a fresh build.

`nox -s docs` builds the site while the tests run (the build takes one core for seconds); it
holds an exclusive lock on `$DOCS_SITE_BUILD.lock` until the build ends, and writes the build's
exit code to `.status` and its output to `.log`. Tests that read the site wait on that lock, and
run last (the `built_site` marker), so the wait is short or none.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from ..docs_blocks import ROOT


@cache
def built_site() -> Path:
    given = os.environ.get("DOCS_SITE_DIR")
    if given:
        building = os.environ.get("DOCS_SITE_BUILD")
        if building:
            _wait_for_the_build(Path(building))
        return Path(given).resolve()
    site = Path(tempfile.mkdtemp(prefix="site-"))
    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site)))
    return site


def _wait_for_the_build(base: Path) -> None:
    """Block until nox's `mkdocs build --strict` ends; fail, naming its warnings, if it failed
    (nox prints its whole output at the end of the run)."""
    import fcntl  # POSIX, as `nox -s docs` is that builds alongside

    with open(base.with_suffix(".lock")) as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
    code = base.with_suffix(".status").read_text()
    if code != "0":
        output = base.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
        problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
        pytest.fail(f"`mkdocs build --strict` failed: {'; '.join(problems[:3])}", pytrace=False)
