"""A CA bundle for a proxy that inspects HTTPS: certifi's public CAs plus your
company's, for `SSL_CERT_FILE`; and a check that a bundle verifies a server.

`SSL_CERT_FILE` replaces the CAs Python trusts, it does not add to them: a
file with only your company's CA makes every site the proxy does not re-sign
fail. So the bundle holds both.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from pathlib import Path

import certifi

from snippets.client import describe_transport_error

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
PEM_BLOCK = re.compile(f"{PEM_BEGIN}.*?-----END CERTIFICATE-----", re.DOTALL)
CONNECT_TIMEOUT = 10.0  # seconds for the connection and the handshake


def build_ca_bundle(company_ca: Path, bundle: Path) -> int:
    """Write certifi's CAs, then the certificates in `company_ca` (PEM), to
    `bundle`.

    Returns how many certificates `company_ca` added; raises `ValueError` if
    it holds none, or one that does not parse.
    """
    # Only the certificate blocks: an export may start with a byte order mark
    # or the certificate as text (names with accents), which Python's ssl
    # refuses. A DER (binary) export has no block at all.
    text = company_ca.read_bytes().decode("ascii", errors="replace")
    blocks = PEM_BLOCK.findall(text)
    if not blocks:
        raise ValueError(
            f"{company_ca} holds no PEM certificate ({PEM_BEGIN}): export "
            "your company's CA as PEM (Base-64), not DER"
        )
    extra = "\n".join(blocks)
    try:
        ssl.create_default_context(cadata=extra)
    except ssl.SSLError as exc:
        raise ValueError(
            f"{company_ca}: a certificate does not parse ({exc.reason or exc})"
        ) from None
    except TypeError:  # ssl refuses text that is not ASCII
        raise ValueError(
            f"{company_ca}: a certificate holds characters that are not"
            " Base-64"
        ) from None
    public = Path(certifi.where()).read_text(encoding="ascii").strip()
    bundle.write_text(f"{public}\n{extra}\n", encoding="ascii")
    return len(blocks)


async def check_tls(
    host: str,
    port: int = 443,
    *,
    ca_file: Path | None = None,
    server_hostname: str | None = None,
) -> str:
    """Open a TLS connection to `host:port`, trusting the CAs in `ca_file`
    (certifi's when None), and say whether the certificate verified, in the
    words the client uses.

    It connects straight to `host:port`, not through a proxy, and trusts
    `ca_file` alone, not `SSL_CERT_FILE`. The way the client goes (through
    the proxy's tunnel, with the CAs it trusts) is what
    `promptops-network-diagnostics` checks.
    """
    name = server_hostname or host
    context = ssl.create_default_context(
        cafile=str(ca_file or certifi.where())
    )
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=context, server_hostname=name
            ),
            CONNECT_TIMEOUT,
        )
    except TimeoutError:
        return f"FAIL: no TLS connection within {CONNECT_TIMEOUT:g} s"
    except OSError as exc:  # ssl.SSLError is an OSError
        return f"FAIL: {describe_transport_error(exc)}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return f"OK: the certificate of {name} verified"
