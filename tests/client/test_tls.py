"""The client verifies TLS for real, and SSL_CERT_FILE (a company CA) is honoured, as the common
issues page says. Against a real TLS server on 127.0.0.1 with a throwaway CA."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from snippets.client import NetworkError, PromptOpsClient
from snippets.mock_api.tls import local_tls_server


def connect_error(ca_file: Path | None, monkeypatch: pytest.MonkeyPatch) -> str:
    async def main() -> str:
        async with local_tls_server("127.0.0.1") as tls:
            if ca_file is not None:
                ca_file.write_bytes(tls.ca_pem)
                monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
            base_url = f"https://127.0.0.1:{tls.port}"
            async with PromptOpsClient("po_key", base_url=base_url, max_retries=0) as client:
                try:
                    await client.health_check()
                except NetworkError as exc:
                    return exc.message
        return "no error"

    return asyncio.run(main())


def test_an_unknown_ca_fails_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert "CERTIFICATE_VERIFY_FAILED" in connect_error(None, monkeypatch)


def test_ssl_cert_file_makes_the_ca_trusted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    message = connect_error(tmp_path / "company-ca.pem", monkeypatch)
    # The handshake now succeeds; the test server then hangs up without an HTTP answer.
    assert "CERTIFICATE_VERIFY_FAILED" not in message
    assert "disconnected" in message.lower() or "closed" in message.lower()
