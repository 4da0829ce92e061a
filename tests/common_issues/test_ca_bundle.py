"""CA bundles for a proxy that inspects HTTPS (snippets/common_issues/ca_bundle.py), checked
against real TLS servers on 127.0.0.1 whose certificates throwaway CAs signed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import certifi
import pytest

from snippets.common_issues.ca_bundle import build_ca_bundle, check_tls
from snippets.mock_api.tls import local_tls_server


def serve_and_check(tmp_path: Path, name: str | None = None) -> tuple[str, str, str]:
    """The proxy's certificate checked with certifi alone, the built bundle, and a file of
    another company's CA."""
    results: list[str] = []

    async def main() -> None:
        async with (
            local_tls_server("api.promptops.com") as proxy,
            local_tls_server("api.promptops.com") as other,
        ):
            (tmp_path / "company.pem").write_bytes(proxy.ca_pem)
            (tmp_path / "other.pem").write_bytes(other.ca_pem)
            build_ca_bundle(tmp_path / "company.pem", tmp_path / "bundle.pem")
            for ca_file in (None, tmp_path / "bundle.pem", tmp_path / "other.pem"):
                results.append(
                    await check_tls(
                        proxy.host,
                        proxy.port,
                        ca_file=ca_file,
                        server_hostname=name or proxy.hostname,
                    )
                )

    asyncio.run(main())
    default, bundle, other = results
    return default, bundle, other


def test_the_bundle_verifies_the_proxy_and_certifi_alone_does_not(tmp_path: Path) -> None:
    default, bundle, other = serve_and_check(tmp_path)
    assert default == "FAIL: CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate"
    assert bundle == "OK: the certificate of api.promptops.com verified"
    assert other.startswith("FAIL: CERTIFICATE_VERIFY_FAILED")


def test_a_certificate_for_another_name_fails_even_with_the_bundle(tmp_path: Path) -> None:
    _, bundle, _ = serve_and_check(tmp_path, name="api.example.com")
    assert bundle.startswith("FAIL: CERTIFICATE_VERIFY_FAILED: Hostname mismatch")


def test_the_bundle_keeps_every_public_ca_and_adds_the_company_s(tmp_path: Path) -> None:
    company = tmp_path / "company.pem"
    asyncio.run(_write_two_cas(company))
    added = build_ca_bundle(company, tmp_path / "bundle.pem")
    bundle = (tmp_path / "bundle.pem").read_text("ascii")
    public = Path(certifi.where()).read_text("ascii").strip()
    assert added == 2
    assert bundle.startswith(public) and bundle.endswith(company.read_text("ascii").strip() + "\n")


async def _write_two_cas(path: Path) -> None:
    async with local_tls_server() as one, local_tls_server() as two:
        path.write_bytes(one.ca_pem + two.ca_pem)


def test_a_der_file_or_a_broken_pem_is_refused(tmp_path: Path) -> None:
    der = tmp_path / "company.cer"
    der.write_text("0\x82\x03", "latin-1")
    with pytest.raises(ValueError, match="holds no PEM certificate"):
        build_ca_bundle(der, tmp_path / "bundle.pem")
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError, match="broken.pem"):
        build_ca_bundle(broken, tmp_path / "bundle.pem")
    assert not (tmp_path / "bundle.pem").exists()


def test_a_closed_port_is_reported_not_raised() -> None:
    result = asyncio.run(check_tls("127.0.0.1", 9, ca_file=None, server_hostname="x"))
    assert result.startswith("FAIL: ConnectionRefusedError")
