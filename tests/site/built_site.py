"""The built site: the one `nox -s docs` just built (`DOCS_SITE_DIR`), or a fresh build."""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from ..docs_blocks import ROOT


@cache
def built_site() -> Path:
    given = os.environ.get("DOCS_SITE_DIR")
    if given:
        return Path(given).resolve()
    site = Path(tempfile.mkdtemp(prefix="site-"))
    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site)))
    return site
