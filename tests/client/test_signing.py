"""Request signing against a worked example computed by hand from the contract."""

from __future__ import annotations

import hashlib
import hmac

from snippets.client.signing import sign, string_to_sign, verify

KEY = "po_live_example_key"
BODY = b'{"variables": {"name": "Ada"}}'


def test_string_to_sign_is_four_lines() -> None:
    assert string_to_sign(1767225600, "post", "/v1/client/prompts/hello-world/render", BODY) == (
        "1767225600\nPOST\n/v1/client/prompts/hello-world/render\n"
        + hashlib.sha256(BODY).hexdigest()
    )


def test_signature_matches_an_independent_hmac() -> None:
    message = (
        b"1767225600\nGET\n/v1/client/prompts?limit=10\n" + hashlib.sha256(b"").hexdigest().encode()
    )
    expected = "v1=" + hmac.new(KEY.encode(), message, hashlib.sha256).hexdigest()
    assert sign(KEY, 1767225600, "GET", "/v1/client/prompts?limit=10") == expected


def test_verify_rejects_any_change() -> None:
    good = sign(KEY, 1767225600, "POST", "/v1/x", BODY)
    assert verify(KEY, good, 1767225600, "POST", "/v1/x", BODY)
    assert not verify(KEY, good, 1767225601, "POST", "/v1/x", BODY)
    assert not verify(KEY, good, 1767225600, "GET", "/v1/x", BODY)
    assert not verify(KEY, good, 1767225600, "POST", "/v1/y", BODY)
    assert not verify(KEY, good, 1767225600, "POST", "/v1/x", BODY + b" ")
    assert not verify("other", good, 1767225600, "POST", "/v1/x", BODY)


def test_a_request_without_a_body_verifies_without_passing_one() -> None:
    signature = sign("po_key", 1767225600, "GET", "/v1/client/prompts", b"")
    assert verify("po_key", signature, 1767225600, "GET", "/v1/client/prompts")
