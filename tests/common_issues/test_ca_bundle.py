"""CA bundles for a proxy that inspects HTTPS (snippets/common_issues/ca_bundle.py), checked
against real TLS servers on 127.0.0.1 whose certificates throwaway CAs signed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest

from snippets.common_issues.ca_bundle import build_ca_bundle, check_tls
from snippets.mock_api.tls import local_tls_server

from ..local_server import refused_port

EXPORT_PREAMBLE = "\ufeffsubject=CN = Société Générale Proxy CA\n".encode()
"""A byte order mark (Windows) and the certificate's names as text, accents and all."""


@dataclass(frozen=True)
class Checked:
    """The proxy's certificate checked with certifi alone, the bundle built from the company's
    CA, a file of another company's CA, and the bundle for a name the certificate is not for."""

    certifi_alone: str
    bundle: str
    other_ca: str
    other_name: str
    company_pem: bytes
    other_pem: bytes
    exported: str
    """The bundle built from the company's CA as Windows and `openssl x509 -text` export it."""


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    folder = tmp_path_factory.mktemp("ca")

    async def main() -> Checked:
        async with (
            local_tls_server("api.promptops.com") as proxy,
            local_tls_server("api.promptops.com") as other,
        ):
            (folder / "company.pem").write_bytes(proxy.ca_pem)
            (folder / "other.pem").write_bytes(other.ca_pem)
            build_ca_bundle(folder / "company.pem", folder / "bundle.pem")
            (folder / "exported.pem").write_bytes(EXPORT_PREAMBLE + proxy.ca_pem)
            build_ca_bundle(folder / "exported.pem", folder / "from-export.pem")

            async def check(ca_file: Path | None, name: str = proxy.hostname) -> str:
                return await check_tls(
                    proxy.host, proxy.port, ca_file=ca_file, server_hostname=name
                )

            return Checked(
                certifi_alone=await check(None),
                bundle=await check(folder / "bundle.pem"),
                other_ca=await check(folder / "other.pem"),
                other_name=await check(folder / "bundle.pem", "api.example.com"),
                company_pem=proxy.ca_pem,
                other_pem=other.ca_pem,
                exported=await check(folder / "from-export.pem"),
            )

    return asyncio.run(main())


def test_the_bundle_verifies_the_proxy_and_certifi_alone_does_not(checked: Checked) -> None:
    assert checked.certifi_alone == (
        "FAIL: CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate"
    )
    assert checked.bundle == "OK: the certificate of api.promptops.com verified"
    assert checked.other_ca.startswith("FAIL: CERTIFICATE_VERIFY_FAILED")


def test_a_certificate_for_another_name_fails_even_with_the_bundle(checked: Checked) -> None:
    assert checked.other_name.startswith("FAIL: CERTIFICATE_VERIFY_FAILED: Hostname mismatch")


def test_the_bundle_keeps_every_public_ca_and_adds_the_company_s(
    checked: Checked, tmp_path: Path
) -> None:
    company = tmp_path / "company.pem"
    company.write_bytes(checked.company_pem + checked.other_pem)
    added = build_ca_bundle(company, tmp_path / "bundle.pem")
    bundle = (tmp_path / "bundle.pem").read_text("ascii")
    public = Path(certifi.where()).read_text("ascii").strip()
    assert added == 2
    assert bundle.startswith(public) and bundle.endswith(company.read_text("ascii").strip() + "\n")


def test_a_der_file_or_a_broken_pem_is_refused_saying_why(tmp_path: Path) -> None:
    der = tmp_path / "company.cer"
    der.write_bytes(b"0\x82\x03")
    with pytest.raises(ValueError) as caught:
        build_ca_bundle(der, tmp_path / "bundle.pem")
    assert str(caught.value) == (
        f"{der} holds no PEM certificate (-----BEGIN CERTIFICATE-----): export your company's "
        "CA as PEM (Base-64), not DER"
    )
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError) as caught:
        build_ca_bundle(broken, tmp_path / "bundle.pem")
    assert str(caught.value).startswith(f"{broken}: a certificate does not parse (")
    assert "None" not in str(caught.value)
    accented = tmp_path / "accented.pem"
    accented.write_bytes(b"-----BEGIN CERTIFICATE-----\nMII\xc3\xa9\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError) as caught:
        build_ca_bundle(accented, tmp_path / "bundle.pem")
    assert str(caught.value) == (f"{accented}: a certificate holds characters that are not Base-64")
    assert not (tmp_path / "bundle.pem").exists()


def test_text_around_the_certificates_is_left_out_of_the_bundle(
    checked: Checked, tmp_path: Path
) -> None:
    """Python's ssl refuses a byte order mark or accented names before the block: only the
    blocks are kept, and the bundle verifies."""
    company = tmp_path / "company.pem"
    company.write_bytes(EXPORT_PREAMBLE + checked.company_pem)
    bundle = tmp_path / "bundle.pem"
    assert build_ca_bundle(company, bundle) == 1
    block = checked.company_pem.decode("ascii").strip()
    assert bundle.read_text("ascii").endswith(f"-----END CERTIFICATE-----\n{block}\n")
    assert checked.exported == "OK: the certificate of api.promptops.com verified"


def test_a_closed_port_is_reported_not_raised() -> None:
    with refused_port() as port:
        result = asyncio.run(check_tls("127.0.0.1", port, ca_file=None, server_hostname="x"))
    assert result.startswith("FAIL: ConnectionRefusedError")
