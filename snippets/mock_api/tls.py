"""A real TLS server on 127.0.0.1 with a certificate from a throwaway CA (trustme).

The network diagnostics' TLS check is tested against it for real, and their `--mock` mode uses
it, so nobody needs the internet to see the check work.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import trustme

VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2099, 12, 31, 12, tzinfo=UTC)  # noon: no day-boundary rounding


@dataclass(frozen=True)
class LocalTLSServer:
    host: str
    port: int
    hostname: str  # the name the certificate is for
    client_context: ssl.SSLContext  # trusts the throwaway CA
    ca_pem: bytes  # the CA certificate, for SSL_CERT_FILE


@asynccontextmanager
async def local_tls_server(
    hostname: str = "api.promptops.com",
    *,
    valid_from: datetime = VALID_FROM,
    valid_until: datetime = VALID_UNTIL,
    issuer: str = "PromptOps Mock CA",
) -> AsyncIterator[LocalTLSServer]:
    """Serve TLS for `hostname` on a free port of 127.0.0.1 until the block ends, with a
    certificate from the throwaway CA `issuer` (another issuer: another CA)."""
    server_context, client_context, ca_pem = _certificates(
        hostname, valid_from, valid_until, issuer
    )

    async def close_after_handshake(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.close()

    server = await asyncio.start_server(close_after_handshake, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield LocalTLSServer("127.0.0.1", port, hostname, client_context, ca_pem)
    finally:
        server.close()
        await server.wait_closed()


@cache
def _certificates(
    hostname: str, valid_from: datetime, valid_until: datetime, issuer: str
) -> tuple[ssl.SSLContext, ssl.SSLContext, bytes]:
    """A throwaway CA named `issuer` and its certificate for `hostname`, made once per process
    (2 ms each; the simulations start hundreds of servers): the server's context, a client's
    that trusts the CA alone, and the CA certificate."""
    ca = trustme.CA(organization_name=issuer)
    cert = ca.issue_cert(
        hostname,
        common_name=hostname,
        organization_name="PromptOps",
        not_before=valid_from,
        not_after=valid_until,
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(server_context)
    # Trusts the throwaway CA alone: not the system's CAs too (loading those takes 20 ms).
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and hostname
    ca.configure_trust(client_context)
    return server_context, client_context, ca.cert_pem.bytes()
