"""Redaction of secrets in text and log records (snippets/debugging/redaction.py)."""

from __future__ import annotations

import io
import logging

import pytest

from snippets.debugging.redaction import RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("{'authorization': 'Bearer xyz'}", "{'authorization': 'Bearer ***'}"),
        ("key po_live_4f9c2a7d1e8b in text", "key po_*** in text"),
        ("sig v1=" + "ab" * 32, "sig v1=***"),
        ("GET /x?api_key=hunter2&limit=5", "GET /x?api_key=***&limit=5"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_known_secrets_of_any_shape() -> None:
    assert redact("token=abc zz-top-secret zz", ["zz-top-secret"]) == "token=abc *** zz"


def test_filter_redacts_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["s3cr3t-key"]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("kwargs: %s", {"api_key": "s3cr3t-key"})
        try:
            raise RuntimeError("failed with s3cr3t-key")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    assert "s3cr3t-key" not in stream.getvalue()
    assert "kwargs: {'api_key': '***'}" in stream.getvalue()
    assert "RuntimeError: failed with ***" in stream.getvalue()
