"""The doctor's report: one result per check, as text for a reader or JSON for CI.

The JSON follows `docs/reference/doctor.schema.json` (`SCHEMA_VERSION`); the reference page
shows it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Status = Literal["ok", "warning", "failure", "skipped"]

SCHEMA_VERSION: Final = 1

MARKS: Final[dict[Status, str]] = {
    "ok": "ok",
    "warning": "warn",
    "failure": "FAIL",
    "skipped": "skip",
}
"""Words, not symbols: they read the same without colour, in a log, to a screen reader."""
_COLOURS: Final[dict[Status, str]] = {
    "ok": "32",  # green
    "warning": "33",  # yellow
    "failure": "1;31",  # bold red
    "skipped": "2",  # dim
}


@dataclass(frozen=True)
class CheckResult:
    """One check's line of the report."""

    id: str
    title: str
    status: Status
    detail: str
    """One line; text from servers escaped, no secret."""
    fix: str | None
    """What to do, in one line: for a warning or a failure only."""
    link: str
    """The page section that explains what this check detects."""
    ran_out_of_time: bool = False
    """The overall deadline passed before the check could finish, or start."""
    measurements: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    base_url: str
    """The API root checked, without credentials."""
    deadline: float
    results: tuple[CheckResult, ...]

    @property
    def counts(self) -> dict[Status, int]:
        found = Counter(result.status for result in self.results)
        return {status: found[status] for status in MARKS}

    @property
    def exit_code(self) -> int:
        """0 when all is well, 1 with warnings, 2 with failures or checks the deadline cut."""
        counts = self.counts
        return 2 if counts["failure"] or self.ran_out_of_time else 1 if counts["warning"] else 0

    @property
    def ran_out_of_time(self) -> list[CheckResult]:
        return [result for result in self.results if result.ran_out_of_time]

    def summary(self) -> str:
        """`9 ok, 1 warning, 1 failure, 2 skipped`, and which checks the deadline cut."""
        counts = self.counts
        parts = [
            f"{counts['ok']} ok",
            _plural(counts["warning"], "warning"),
            _plural(counts["failure"], "failure"),
            f"{counts['skipped']} skipped",
        ]
        line = ", ".join(parts)
        if self.ran_out_of_time:
            titles = ", ".join(result.title for result in self.ran_out_of_time)
            line += f"; ran out of time ({self.deadline:g} s deadline): {titles}"
        return line

    def text(self, *, colour: bool = False) -> list[str]:
        """The report as lines: a mark, the check and its detail; under a warning or a
        failure, the fix and the link; then the summary. `colour` adds ANSI colour to the
        marks (for a terminal)."""
        width = max(len(result.title) for result in self.results)
        indent = " " * (len("FAIL  ") + width + 2)
        lines = [f"PromptOps doctor: {self.base_url}"]
        for result in self.results:
            mark = f"{MARKS[result.status]:<4}"
            if colour:
                mark = f"\x1b[{_COLOURS[result.status]}m{mark}\x1b[0m"
            lines.append(f"{mark}  {result.title:<{width}}  {result.detail}")
            if result.status in ("warning", "failure"):
                lines.append(f"{indent}fix: {result.fix}")
                lines.append(f"{indent}see: {result.link}")
        lines.append(self.summary())
        return lines

    def as_json(self) -> dict[str, Any]:
        """The report for CI and monitoring: see docs/reference/doctor.schema.json."""
        return {
            "schema_version": SCHEMA_VERSION,
            "base_url": self.base_url,
            "deadline_seconds": self.deadline,
            "exit_code": self.exit_code,
            "summary": self.counts,
            "ran_out_of_time": [result.id for result in self.ran_out_of_time],
            "checks": [
                {
                    "id": result.id,
                    "title": result.title,
                    "status": result.status,
                    "detail": result.detail,
                    "fix": result.fix,
                    "link": result.link,
                    "ran_out_of_time": result.ran_out_of_time,
                    "measurements": result.measurements,
                }
                for result in self.results
            ],
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
