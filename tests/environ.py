"""This machine's own settings, out of a test's way: a test that runs a tool on the process's
environment (a script's `main`) must not meet the CA bundle, proxy or key of whoever runs it."""

from __future__ import annotations

import os

import pytest

CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every variable the client or a tool reads: PROMPTOPS_*, *_proxy in any case, and
    the CA variables (this machine sets SSL_CERT_FILE and REQUESTS_CA_BUNDLE, say)."""
    for name in list(os.environ):
        if name.startswith("PROMPTOPS_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
