"""The proxy on 127.0.0.1 the proxy sections of the pages go through
(snippets/mock_api/proxy.py): what it answers, and that the client and the network diagnostics
meet it as they meet a company's proxy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from snippets.client import NetworkError, PromptOpsClient, read_settings
from snippets.debugging.network_diagnostics import diagnose_network
from snippets.mock_api.proxy import local_proxy
from snippets.mock_api.tls import local_tls_server

KEY = "po_live_4f9c2a7d1e8b"


async def client_error(proxy_url: str) -> str:
    """What the client raises through the proxy (it always raises: no API is behind it)."""
    settings = read_settings({"PROMPTOPS_API_KEY": KEY, "HTTPS_PROXY": proxy_url})
    try:
        async with PromptOpsClient(settings=settings, max_retries=0) as client:
            await client.health_check()
    except NetworkError as exc:
        return str(exc)
    raise AssertionError("the call went through")


def test_without_the_login_it_answers_407_and_with_it_tunnels_to_the_target(
    tmp_path: Path,
) -> None:
    """The TLS check goes through the tunnel to the stand-in and verifies its certificate."""

    async def main() -> tuple[str, str, str, list[str]]:
        async with (
            local_tls_server() as api,
            local_proxy((api.host, api.port), login="alice:s3cret") as proxy,
        ):
            (tmp_path / "ca.pem").write_bytes(api.ca_pem)
            refused = await client_error(proxy.url)
            wrong = await client_error(proxy.url_with("alice:wrong"))
            environ = {"HTTPS_PROXY": proxy.url_with("alice:s3cret")}
            report = await diagnose_network({**environ, "SSL_CERT_FILE": str(tmp_path / "ca.pem")})
            (tls,) = [finding for finding in report.findings if finding.id == "tls"]
            return refused, wrong, f"{tls.status}: {tls.detail}", proxy.answers

    refused, wrong, tls, answers = asyncio.run(main())
    assert (
        refused
        == wrong
        == (
            "NETWORK_ERROR: Could not reach https://api.promptops.com: 407 Proxy Authentication "
            "Required"
        )
    )
    assert tls.startswith("ok: api.promptops.com, issued by PromptOps Mock CA, expires 2099-12-31")
    assert tls.endswith("through the proxy")
    assert answers[:3] == [
        "407 Proxy Authentication Required",
        "407 Proxy Authentication Required",
        "200 Connection established",
    ]


def test_an_https_url_for_it_fails_the_handshake_it_answers_400() -> None:
    async def main() -> tuple[str, list[str]]:
        async with local_proxy() as proxy:
            https = proxy.url.replace("http://", "https://")
            return await client_error(https), proxy.answers

    error, answers = asyncio.run(main())
    assert error == (
        "NETWORK_ERROR: Could not reach https://api.promptops.com: [SSL: WRONG_VERSION_NUMBER] "
        "wrong version number"
    )
    assert answers == ["400 Bad Request"]


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"CONNECT api.promptops.com:443 HTTP/1.1\r\nHost: api.promptops.com:443\r\n\r\n", 502),
        (b"GET http://api.promptops.com/ HTTP/1.1\r\nHost: api.promptops.com\r\n\r\n", 501),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
        (b"CONNECT api.promptops.com:443 HTTP/1.1\r\n", 400),  # the head never ends
    ],
    ids=["no target", "not connect", "tls hello", "cut short"],
)
def test_what_it_cannot_tunnel_it_answers_as_a_proxy_does(request_head: bytes, status: int) -> None:
    async def main() -> bytes:
        async with local_proxy() as proxy:
            reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
            writer.write(request_head)
            if request_head.endswith(b"HTTP/1.1\r\n"):
                writer.write_eof()
            answer = await reader.read()
            writer.close()
            return answer

    assert asyncio.run(main()).startswith(f"HTTP/1.1 {status} ".encode())


def test_it_stops_with_a_tunnel_still_open() -> None:
    """Leaving the block ends every connection: nothing is left running."""

    async def main() -> None:
        async with (
            local_tls_server() as api,
            local_proxy((api.host, api.port)) as proxy,
        ):
            reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
            writer.write(b"CONNECT api.promptops.com:443 HTTP/1.1\r\n\r\n")
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        assert await reader.read() == b""

    asyncio.run(asyncio.wait_for(main(), 10))


@pytest.mark.parametrize("answer", [b"SSH-2.0-OpenSSH_9.2\r\n", b""], ids=["its words", "none"])
def test_told_what_to_answer_it_says_that_and_hangs_up_keeping_each_request(
    answer: bytes,
) -> None:
    head = b"CONNECT api.promptops.com:443 HTTP/1.1\r\nHost: api.promptops.com:443\r\n\r\n"

    async def main() -> tuple[bytes, list[str], list[str]]:
        async with local_proxy(answer=answer) as proxy:
            reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
            writer.write(head + b"\x16\x03\x01")  # the head, then what would follow it
            said = await reader.read()
            writer.close()
        return said, proxy.requests, proxy.answers

    assert asyncio.run(main()) == (answer, [head.decode()], [])
