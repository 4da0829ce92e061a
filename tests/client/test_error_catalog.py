"""The error catalog against the API contract, and the mock's use of it."""

from __future__ import annotations

from snippets.client import ERROR_CATALOG, PromptOpsError

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
    catalog = {spec.code: (spec.status, spec.retryable) for spec in ERROR_CATALOG}
    assert catalog == CONTRACT, "snippets/client/errors.py ERROR_CATALOG differs from the contract"


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
