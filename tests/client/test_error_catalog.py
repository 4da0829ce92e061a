"""The error catalog against the API contract, and the mock's use of it."""

from __future__ import annotations

from pathlib import Path

from snippets import client
from snippets.client import ERROR_CATALOG, PromptOpsError

from ..docs_blocks import ROOT

# The contract, written out independently of the catalog so that a wrong edit to either fails.
CONTRACT = {
    "AUTHENTICATION_ERROR": (401, False),
    "RATE_LIMIT_ERROR": (429, True),
    "TIMEOUT_ERROR": (504, True),
    "PROMPT_NOT_FOUND": (404, False),
    "VALIDATION_ERROR": (422, False),
    "NETWORK_ERROR": (None, True),
    "SERVER_ERROR": (500, True),
}


def test_catalog_matches_the_contract() -> None:
    """Each side names what to change: a code the catalog has that CONTRACT lacks is a line to
    add here (after the catalog's row, which a new code needs first); the others, the
    catalog's row in snippets/client/errors.py."""
    catalog = {spec.code: (spec.status, spec.retryable) for spec in ERROR_CATALOG}
    lines = Path(__file__).read_text("utf-8").splitlines()
    end = lines.index("}", lines.index("CONTRACT = {")) + 1
    problems = [
        f"{code} is in ERROR_CATALOG (snippets/client/errors.py) but not in CONTRACT: check its "
        f"status and retry with the API's contract, then add before "
        f"tests/client/test_error_catalog.py:{end}:\n    {code!r}: {catalog[code]!r},"
        for code in catalog.keys() - CONTRACT.keys()
    ] + [
        f"snippets/client/errors.py: ERROR_CATALOG's row for {code} says (status, retried) = "
        f"{catalog.get(code, 'no row')}; the contract says {CONTRACT[code]}"
        for code in CONTRACT
        if catalog.get(code) != CONTRACT[code]
    ]
    assert not problems, "\n".join(problems)


def test_every_error_class_is_public_and_in_the_reference() -> None:
    """Readers catch the errors by the names `snippets.client` exports, and look them up in the
    client's reference, which lists its members by hand (mkdocstrings)."""
    reference = ROOT / "docs/reference/client.md"
    text = reference.read_text("utf-8").splitlines()
    start = text.index("::: snippets.client.errors")
    last = start + next(n for n, line in enumerate(text[start:]) if line.startswith("#"))
    last = max(n for n in range(start, last) if text[n].startswith("        - ")) + 1
    problems = []
    for spec in ERROR_CATALOG:
        name = spec.exception.__name__
        if getattr(client, name, None) is not spec.exception or name not in client.__all__:
            problems.append(
                f"snippets/client/__init__.py: import {name} from .errors, and add {name!r} "
                "to __all__"
            )
        if f"        - {name}" not in text:
            problems.append(
                f"docs/reference/client.md: add {name} to the members of snippets.client.errors"
                f", after line {last}:\n        - {name}"
            )
    assert not problems, "\n".join(problems)


def test_one_exception_class_per_code_all_under_promptops_error() -> None:
    classes = [spec.exception for spec in ERROR_CATALOG]
    assert len(set(classes)) == len(classes) == len(CONTRACT)
    for cls in classes:
        assert issubclass(cls, PromptOpsError)
        error = cls("something broke")
        assert (error.code, error.message) == (cls.code, "something broke")
        assert str(error) == f"{cls.code}: something broke"


def test_the_message_is_the_exception_s_argument_as_error_trackers_read_it() -> None:
    """Sentry, logging's `exc_info` and `pickle` read `exc.args`: it holds the message."""
    for row in ERROR_CATALOG:
        error = row.exception("what went wrong")
        assert error.args == ("what went wrong",), row.code
