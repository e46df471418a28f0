"""`errors.scrub`: what a vault, a proxy or a token endpoint echoes back never reaches an error line as a token."""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sealkit.clients.keyvault.errors import Sent, scrub

TOKEN_CHARS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=8, max_size=60
)


@given(before=st.text(max_size=30), header=TOKEN_CHARS, payload=TOKEN_CHARS, signature=TOKEN_CHARS)
def test_a_bearer_token_or_jwt_is_redacted(before: str, header: str, payload: str, signature: str) -> None:
    jwt = f"eyJ{header}.{payload}.{signature}"
    for echoed in (f"{before} Authorization: Bearer {jwt}", f"{before} assertion={jwt} was refused"):
        scrubbed = scrub(echoed)
        assert jwt not in scrubbed and "[redacted]" in scrubbed


def test_the_client_secret_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "sp-secret-value~1")
    assert scrub("AADSTS7000215: Invalid client secret provided (sp-secret-value~1).") == (
        "AADSTS7000215: Invalid client secret provided ([redacted])."
    )
    assert scrub("not found (A secret with (name/id) db was not found)") == (
        "not found (A secret with (name/id) db was not found)"
    )


SECRET_BYTES = st.binary(min_size=32, max_size=600)
NAME = "sealkit-prod-0123456789abcdef0123456789abcdef"


@given(
    data=SECRET_BYTES,
    start=st.integers(min_value=0, max_value=10_000),
    length=st.integers(min_value=8, max_value=10_000),
    before=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    urlsafe=st.booleans(),
    escaped=st.booleans(),
)
def test_an_echo_of_what_was_sent_is_redacted_and_a_secret_name_kept(
    data: bytes, start: int, length: int, before: str, urlsafe: bool, escaped: bool
) -> None:
    """Any 8 or more characters of what a request sent (base64 or base64url, as in a PEM body or a wrapKey
    request), anywhere in a message, read [redacted]; the escrow secret's name beside it stays."""
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode().rstrip("=")
    assume(encoded.lower() != encoded)  # a run without capitals is a name or a hex id to `Sent`, not key material
    sent = f"-----BEGIN RSA PRIVATE KEY-----\n{encoded}\n-----END RSA PRIVATE KEY-----\n" if not urlsafe else encoded
    start %= len(encoded)
    echo = encoded[start : start + length]
    if len(echo) < 8:
        echo = encoded[-8:]
    if escaped:
        echo = echo.replace("/", "\\/")
    message = f"{before} secret {NAME} was refused: {echo} (value)"
    scrubbed = scrub(message, Sent([sent]))
    assert NAME in scrubbed and "[redacted]" in scrubbed
    shown = scrubbed.replace("\\/", "/")
    assert not [encoded[i : i + 8] for i in range(len(encoded) - 7) if encoded[i : i + 8] in shown]


def test_a_pem_block_is_redacted_whole_or_cut_short() -> None:
    for message in (
        'bad body {"value": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY-----"} for db',
        "bad value -----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS",
    ):
        scrubbed = scrub(message)
        assert "MIIE" not in scrubbed and "PRIVATE KEY" not in scrubbed and "[redacted]" in scrubbed, scrubbed
    assert scrub("bad request for secret db").endswith("db")
