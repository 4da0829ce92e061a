"""A site build that fails, fails the tests that read the site once, saying why."""

from __future__ import annotations

import functools
import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest
from mkdocs.exceptions import Abort

from . import built_site as module

WARNING = "Doc file 'faq.md' contains a link 'nope.md', but the target 'nope.md' is not found"


def test_a_failed_build_is_built_once_and_fails_every_reader_with_its_warnings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    builds = []

    def failing_build(config: Any) -> None:
        builds.append(config)
        logging.getLogger("mkdocs.structure.pages").warning(WARNING)
        raise Abort("Aborted with 1 warnings in strict mode!")

    site = tmp_path / "site"

    def make_site_dir(prefix: str) -> str:
        site.mkdir()
        return str(site)

    monkeypatch.setattr(tempfile, "mkdtemp", make_site_dir)
    monkeypatch.setattr(module, "load_config", lambda path, site_dir: {"site_dir": site_dir})
    monkeypatch.setattr(module, "build", failing_build)
    monkeypatch.delenv("DOCS_SITE_DIR", raising=False)
    # A cache of its own: the suite's holds the real site.
    once = functools.cache(module._site_or_failure.__wrapped__)
    monkeypatch.setattr(module, "_site_or_failure", once)
    for _ in range(3):
        with pytest.raises(pytest.fail.Exception) as failed:
            module.built_site()
        assert str(failed.value) == (
            "`mkdocs build --strict` failed:\n"
            f"WARNING -  {WARNING}\n"
            "Abort: Aborted with 1 warnings in strict mode!"
        )
    assert builds == [{"site_dir": str(site)}]
    assert not site.exists()  # no half-built site left behind
    assert not [h for h in logging.getLogger("mkdocs").handlers if isinstance(h, module._Problems)]
