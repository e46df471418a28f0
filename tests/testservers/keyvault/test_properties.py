"""Open-ended inputs: any valid name/value/tags round-trips through the SDK; any invalid name is a 400."""

from __future__ import annotations

import string

from azure.core.exceptions import HttpResponseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit_testservers.keyvault import KeyVaultServer

NAME_CHARS = string.ascii_letters + string.digits + "-"
names = st.text(NAME_CHARS, min_size=1, max_size=127)
bad_names = st.text(
    st.characters(codec="utf-8", exclude_characters="/?#%\\\r\n\t ", exclude_categories=["Cs", "Cc", "Zs"]),
    min_size=1,
    max_size=20,
).filter(lambda n: any(c not in NAME_CHARS for c in n) and n not in (".", ".."))
values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=300)
tags = st.none() | st.dictionaries(st.text(NAME_CHARS, min_size=1, max_size=10), st.text(max_size=20), max_size=5)


def test_any_valid_secret_round_trips() -> None:
    with KeyVaultServer() as server:
        vault = server.add_vault()
        client = vault.client(retry_total=0)

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(name=names, value=values, tag_map=tags)
        def check(name: str, value: str, tag_map: dict[str, str] | None) -> None:
            written = client.set_secret(name, value, tags=tag_map)
            read = client.get_secret(name, written.properties.version)
            assert read.value == value
            assert read.name == name
            assert read.properties.tags == tag_map
            assert vault.secret(name, written.properties.version) is not None

        check()


def test_any_invalid_name_is_bad_parameter() -> None:
    with KeyVaultServer() as server:
        vault = server.add_vault()
        client = vault.client(retry_total=0)

        @settings(max_examples=30, deadline=None)
        @given(name=bad_names)
        def check(name: str) -> None:
            try:
                client.get_secret(name)
            except HttpResponseError as exc:
                assert exc.status_code == 400, (name, exc.status_code)
                assert exc.error is not None
                assert exc.error.code == "BadParameter"
            else:
                raise AssertionError(f"{name!r} was accepted")

        check()
