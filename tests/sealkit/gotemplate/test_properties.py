"""Properties over open-ended input: values round-trip, encodings invert, errors stay TemplateError."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.errors import TemplateError
from sealkit.gotemplate import render_template

go_strings = st.binary(max_size=64).map(lambda b: b.decode("utf-8", "surrogateescape"))


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@given(value=go_strings)
def test_any_value_round_trips_through_a_field(value: str) -> None:
    assert as_bytes(render_template("{{ .k }}", {"k": value})) == as_bytes(value)
    assert as_bytes(render_template('{{ index . "k" }}', {"k": value})) == as_bytes(value)


@given(value=go_strings)
def test_b64enc_matches_base64_and_b64dec_inverts_it(value: str) -> None:
    encoded = render_template("{{ b64enc .k }}", {"k": value})
    assert encoded == base64.b64encode(as_bytes(value)).decode()
    assert as_bytes(render_template("{{ .k | b64enc | b64dec }}", {"k": value})) == as_bytes(value)


@given(value=go_strings)
def test_b32_round_trip_and_hashes(value: str) -> None:
    assert as_bytes(render_template("{{ .k | b32enc | b32dec }}", {"k": value})) == as_bytes(value)
    assert render_template("{{ sha256sum .k }}", {"k": value}) == hashlib.sha256(as_bytes(value)).hexdigest()


@given(value=go_strings, n=st.integers(min_value=0, max_value=80))
def test_len_and_trunc_count_bytes(value: str, n: int) -> None:
    size = len(as_bytes(value))
    assert render_template("{{ len .k }}", {"k": value}) == str(size)
    out = render_template(f"{{{{ trunc {n} .k }}}}", {"k": value})
    assert as_bytes(out) == as_bytes(value)[:n]


@given(value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40))
def test_quote_agrees_with_json_on_printable_ascii(value: str) -> None:
    # Go's strconv.Quote and JSON both escape only " and \ in printable ASCII.
    assert render_template("{{ quote .k }}", {"k": value}) == json.dumps(value)


@given(value=go_strings)
def test_tojson_output_is_valid_json_for_the_value(value: str) -> None:
    out = render_template("{{ toJson .k }}", {"k": value})
    decoded = json.loads(out)
    if as_bytes(value).decode("utf-8", "replace") == as_bytes(value).decode("utf-8", "surrogateescape"):
        assert decoded == value  # valid UTF-8 round-trips exactly


TOKENS = [
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    " ",
    "\n",
    ".",
    ".k",
    "$",
    "$x",
    ":=",
    "=",
    ",",
    "|",
    "(",
    ")",
    '"',
    "`",
    "'",
    "a",
    "1",
    "-",
    "if",
    "else",
    "end",
    "range",
    "with",
    "break",
    "continue",
    "nil",
    "true",
    "printf",
    '"%d"',
    "upper",
    "index",
    "len",
    "default",
    "toJson",
    "define",
    "env",
    "x",
]


@settings(max_examples=400)
@given(parts=st.lists(st.sampled_from(TOKENS), max_size=30))
def test_arbitrary_token_soup_renders_or_raises_template_error(parts: list[str]) -> None:
    source = "".join(parts)
    try:
        result = render_template(source, {"k": "v"})
    except TemplateError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, str)


@settings(max_examples=200)
@given(source=st.text(max_size=60))
def test_arbitrary_text_renders_or_raises_template_error(source: str) -> None:
    with contextlib.suppress(TemplateError):
        assert isinstance(render_template(source, {"k": "v"}), str)


FAILING = [
    "{{ .k | upper | int | repeat 2 }}",
    "{{ fail .k }}",
    "{{ range .k }}{{ end }}",
    "{{ index .k 1000 }}",
    "{{ lt .k 1 }}",
    "{{ printf (printf .k) | keys }}",
    "{{ regexFind .k .k }}{{ regexFind `(?=` .k }}",
    "{{ eq .k (list .k) }}",
    "{{ .k.k }}",
    "{{ substr 5000 2 .k }}",
    "{{ keys . }}",
    "{{ dig .k .k . }}",
    "{{ mustFromJson .k | toJson | keys }}",
]


@given(
    secret=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=12, max_size=24),
    source=st.sampled_from(FAILING),
)
def test_errors_never_contain_the_item_values(secret: str, source: str) -> None:
    try:
        render_template(source, {"k": secret})
    except TemplateError as exc:
        assert secret not in str(exc)
