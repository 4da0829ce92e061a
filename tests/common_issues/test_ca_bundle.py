"""CA bundles for a proxy that inspects HTTPS (snippets/common_issues/ca_bundle.py), checked
against real TLS servers on 127.0.0.1 whose certificates throwaway CAs signed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import certifi
import pytest

from snippets.client import NetworkError, PromptOpsClient, read_settings
from snippets.client.settings import read_trust
from snippets.common_issues.ca_bundle import build_ca_bundle, check_tls
from snippets.common_issues.config_doctor import check_configuration
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
            local_tls_server("api.promptops.com", issuer="Another Company CA") as other,
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
        "FAIL: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
        "issuer certificate"
    )
    assert checked.bundle == "OK: the certificate of api.promptops.com verified"
    assert checked.other_ca.startswith("FAIL: [SSL: CERTIFICATE_VERIFY_FAILED]")


def test_a_certificate_for_another_name_fails_even_with_the_bundle(checked: Checked) -> None:
    assert checked.other_name.startswith(
        "FAIL: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch"
    )


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
    assert result == "FAIL: [Errno 111] Connection refused"


def test_the_bundle_is_the_fix_the_config_doctor_gives_for_a_company_ca_alone(
    checked: Checked, tmp_path: Path
) -> None:
    """SSL_CERT_FILE with the company's CA alone is a warning whose fix is this bundle; with
    the bundle, the CA check is ok and the client trusts both the public CAs and the company's."""
    company = tmp_path / "company.pem"
    company.write_bytes(checked.company_pem)
    bundle = tmp_path / "bundle.pem"
    build_ca_bundle(company, bundle)

    def ca_check(path: Path) -> tuple[str, str | None]:
        report = asyncio.run(check_configuration({"SSL_CERT_FILE": str(path)}))
        (finding,) = [f for f in report.findings if f.id == "ca-bundle"]
        return finding.status, finding.fix

    assert ca_check(company) == (
        "warning",
        "Point SSL_CERT_FILE at a bundle of certifi's CAs and your company's (build_ca_bundle)",
    )
    assert ca_check(bundle) == ("ok", None)
    public = read_trust({}).value.count()
    assert read_trust({"SSL_CERT_FILE": str(bundle)}).value.count() == public + 1


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "reason"),
    [
        (datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC), "has expired"),
        (datetime(2090, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC), "is not yet valid"),
    ],
    ids=["clock after its end", "clock before its start"],
)
def test_a_certificate_outside_its_dates_fails_as_the_client_says(
    valid_from: datetime, valid_until: datetime, reason: str, tmp_path: Path
) -> None:
    """OpenSSL compares the certificate's dates with this machine's clock: a clock years off
    looks like this. check_tls says it in the client's words."""

    async def main() -> tuple[str, str]:
        async with local_tls_server(
            "127.0.0.1", valid_from=valid_from, valid_until=valid_until
        ) as server:
            (tmp_path / "ca.pem").write_bytes(server.ca_pem)
            checked = await check_tls(
                server.host,
                server.port,
                ca_file=tmp_path / "ca.pem",
                server_hostname=server.hostname,
            )
            environ = {
                "PROMPTOPS_API_KEY": "po_live_x1",
                "PROMPTOPS_BASE_URL": f"https://{server.host}:{server.port}",
                "SSL_CERT_FILE": str(tmp_path / "ca.pem"),
            }
            client = PromptOpsClient(settings=read_settings(environ), max_retries=0)
            try:
                async with client:
                    await client.health_check()
            except NetworkError as exc:
                return checked, exc.message
            raise AssertionError("verified")

    checked, message = asyncio.run(main())
    text = f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate {reason}"
    assert checked == f"FAIL: {text}"
    assert message.endswith(f": {text}")
