"""Compare the MkDocs build with a Zensical build of the same mkdocs.yml: `nox -s zensical`.

Zensical is Material for MkDocs' successor. This is a non-blocking check that tells, page by
page, what a move would change: missing pages, headings (anchors readers link to), code blocks
(the snippets), and the API reference.

    python -m tests.site.compare_zensical site site-zensical
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup


@dataclass(frozen=True)
class _Summary:
    anchors: set[str]  # the ids of h1, h2 and h3
    code_blocks: int
    text: str  # the article's


def summarize(path: Path) -> _Summary:
    soup = BeautifulSoup(path.read_text("utf-8"), "html.parser")
    return _Summary(
        anchors={
            anchor
            for heading in soup.find_all(("h1", "h2", "h3"))
            if isinstance(anchor := heading.get("id"), str) and anchor
        },
        code_blocks=len(soup.find_all("pre")),
        text="".join(article.get_text() for article in soup.find_all("article")),
    )


def compare(mkdocs_site: Path, zensical_site: Path) -> list[str]:
    """Differences a reader would notice, one line each."""
    pages = {p.relative_to(mkdocs_site) for p in mkdocs_site.rglob("index.html")}
    pages = {p for p in pages if p.parts[0] not in ("assets", "search")}
    report = []
    for page in sorted(pages):
        other = zensical_site / page
        if not other.is_file():
            report.append(f"{page}: missing in the Zensical build")
            continue
        ours, theirs = summarize(mkdocs_site / page), summarize(other)
        if ours.anchors != theirs.anchors:
            lost = sorted(ours.anchors - theirs.anchors)
            added = sorted(theirs.anchors - ours.anchors)
            report.append(f"{page}: heading anchors differ (lost {lost}, new {added})")
        if ours.code_blocks != theirs.code_blocks:
            report.append(f"{page}: {ours.code_blocks} code blocks, Zensical {theirs.code_blocks}")
        if "run_health_checks" in ours.text and "run_health_checks" not in theirs.text:
            report.append(f"{page}: included snippet missing in the Zensical build")
    extra = sorted(
        str(p.relative_to(zensical_site))
        for p in zensical_site.iterdir()
        if not (mkdocs_site / p.name).exists()
    )
    missing = sorted(
        str(p.relative_to(mkdocs_site))
        for p in mkdocs_site.iterdir()
        if not (zensical_site / p.name).exists()
    )
    if missing:
        report.append(f"top-level files only MkDocs writes: {missing}")
    if extra:
        report.append(f"top-level files only Zensical writes: {extra}")
    return report


def main(argv: list[str]) -> int:
    mkdocs_site, zensical_site = (Path(a) for a in argv)
    report = compare(mkdocs_site, zensical_site)
    pages = len(list(mkdocs_site.rglob("index.html")))
    print(f"Zensical vs MkDocs: {len(report)} difference(s) over {pages} pages")
    for line in report:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
