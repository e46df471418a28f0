"""`errors.scrub`: what a vault, a proxy or a token endpoint echoes back never reaches an error line as a token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.clients.keyvault.errors import scrub

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
