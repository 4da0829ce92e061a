"""How a reader runs a copied block: `python block.py` in a shell of their own. Shared by the copy
check (tests/copied) and the live check (tests/live)."""

from __future__ import annotations

import os
from pathlib import Path

from ..test_docs import DOCS_RANDOM_SEED

# `python block.py`, with `random` seeded first as the docs harness seeds it.
SEEDED_RUN = (
    f"import random, runpy, sys; random.seed({DOCS_RANDOM_SEED}); sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def reader_environment(home: Path, base_url: str | None, api_key: str) -> dict[str, str]:
    """What a reader's shell has: a PATH, a home, a UTF-8 locale, and the PromptOps settings.
    Nothing of this repository or of the test run."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PROMPTOPS_API_KEY": api_key,
    }
    if base_url:
        environment["PROMPTOPS_BASE_URL"] = base_url
    return environment
