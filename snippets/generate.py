"""Write the docs' generated includes from their single source in code.

    python -m snippets.generate           # rewrite them
    python -m snippets.generate --check   # exit 1 if any is out of date

A test runs the check, so a catalog change without a regeneration fails CI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from snippets.client.errors import error_matrix_markdown

ROOT = Path(__file__).resolve().parent.parent

GENERATED: dict[Path, Callable[[], str]] = {
    ROOT / "docs/includes/error-matrix.md": error_matrix_markdown,
}


def stale_files() -> list[Path]:
    """Generated files whose content differs from what their source produces now."""
    return [
        path
        for path, render in GENERATED.items()
        if not path.exists() or path.read_text(encoding="utf-8") != render()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the docs' generated includes.")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = stale_files()
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python -m snippets.generate")
        return 1 if stale else 0
    for path in stale:
        path.write_text(GENERATED[path](), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
