"""Where a slow call's time went: the retries the client made, and how long it
waited before each, read from its own log records (the `promptops` logger)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# The client logs each retry at INFO as
#   "%s %s failed with %s; retry %d of %d in %.1f s"
# with the method, path, error code, retry number, retries allowed and wait.
RETRY_MESSAGE = "%s %s failed with %s; retry %d of %d in %.1f s"


@dataclass
class Endpoint:
    retries: int = 0
    waited: float = 0.0
    causes: list[str] = field(default_factory=list)  # each retry's error code
    waits: list[float] = field(default_factory=list)  # and the wait before it


class RetryWaits(logging.Handler):
    """Adds up, per endpoint, the client's retries and the seconds it waited
    before them (backoff, or the `retry_after` the API asked for)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.endpoints: dict[str, Endpoint] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != RETRY_MESSAGE or not isinstance(record.args, tuple):
            return
        method, path, code, _, _, wait = record.args
        endpoint = self.endpoints.setdefault(f"{method} {path}", Endpoint())
        endpoint.retries += 1
        endpoint.waited += float(str(wait))
        endpoint.causes.append(str(code))
        endpoint.waits.append(float(str(wait)))

    @property
    def total_wait(self) -> float:
        return sum(e.waited for e in self.endpoints.values())

    def by_cause(self) -> dict[str, tuple[int, float]]:
        """Per error code: the retries it caused and the seconds waited before
        them, every endpoint together."""
        found: dict[str, tuple[int, float]] = {}
        for endpoint in self.endpoints.values():
            for code, wait in zip(
                endpoint.causes, endpoint.waits, strict=True
            ):
                retries, waited = found.get(code, (0, 0.0))
                found[code] = (retries + 1, waited + wait)
        return found

    def report(self) -> str:
        if not self.endpoints:
            return "no retries: every call succeeded or failed at once"
        lines = []
        for name, endpoint in self.endpoints.items():
            causes = ", ".join(sorted(set(endpoint.causes)))
            lines.append(
                f"{name}: {endpoint.retries} retry(ies) after {causes}, "
                f"{endpoint.waited:.1f} s waiting"
            )
        return "\n".join(lines)


@contextmanager
def watch_retries() -> Iterator[RetryWaits]:
    """Count the client's retries and waits inside the `with` block."""
    logger = logging.getLogger("promptops")
    handler = RetryWaits()
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
