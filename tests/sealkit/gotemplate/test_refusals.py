"""What sealkit refuses, and what Go itself rejects: one-line TemplateErrors naming the construct."""

from __future__ import annotations

import pytest

from sealkit.errors import SealkitError, TemplateError
from sealkit.gotemplate import TemplateError as ReexportedTemplateError
from sealkit.gotemplate import render_template

SECRET = "Sup3r-S3cret-V4lue"
ITEMS = {"password": SECRET, "user": "admin"}

# (template, words the message must contain)
REFUSED: list[tuple[str, tuple[str, ...]]] = [
    ('{{ env "HOME" }}', ("env", "environment")),
    ('{{ expandenv "$HOME" }}', ("expandenv", "environment")),
    ('{{ getHostByName "example.com" }}', ("getHostByName", "network")),
    ("{{ randAlphaNum 8 }}", ("randAlphaNum", "different result")),
    ("{{ uuidv4 }}", ("uuidv4", "different result")),
    ('{{ htpasswd "u" .password }}', ("htpasswd", "different result")),
    ("{{ bcrypt .password }}", ("bcrypt",)),
    ('{{ genPrivateKey "rsa" }}', ("genPrivateKey",)),
    ("{{ now }}", ("now", "clock")),
    ('{{ date "2006" now }}', ("date", "clock")),
    ("{{ camelcase .user }}", ("camelcase", "does not implement")),
    ('{{ semverCompare ">1" "2" }}', ("semverCompare",)),
    ("{{ call .user }}", ("call",)),
    ("{{ nosuchfunc .user }}", ('"nosuchfunc" not defined',)),
    ('{{ define "x" }}y{{ end }}', ("{{define}}",)),
    ('{{ template "x" . }}', ("{{template}}",)),
    ('{{ block "x" . }}y{{ end }}', ("{{block}}",)),
    ('{{ printf "%w" .password }}', ("printf", "%w")),
    ('{{ printf "%[1]s" .password }}', ("argument indexes",)),
    ('{{ regexMatch "\\\\p{L}" .user }}', ("\\p",)),
    ('{{ regexFind "(?U)a+" .user }}', ("U (ungreedy)",)),
    ("{{ 1i }}", ("complex",)),
]

# Go rejects these too (parse or execution errors).
GO_ERRORS: list[tuple[str, tuple[str, ...]]] = [
    ("{{ if .user }}x", ("{{if}}", "{{end}}")),
    ("{{ end }}", ("{{end}}",)),
    ("{{ else }}", ("{{else}}",)),
    ("{{ .user", ("unclosed action",)),
    ("{{ $nope }}", ("undefined variable $nope",)),
    ("{{ break }}", ("{{break}} outside {{range}}",)),
    ("{{ .user | 3 }}", ("non executable command in pipeline stage 2",)),
    ("{{ nil }}", ("nil is not a command",)),
    ("{{ .user .password }}", ("user is not a method but has arguments",)),
    ('{{ "a" "b" }}', ("non-function",)),
    ("{{ upper 3 }}", ("expected string; found 3",)),
    ('{{ repeat "x" "y" }}', ("expected integer",)),
    ("{{ .nope | upper }}", ("invalid value; expected string",)),
    ("{{ keys . }}", ("map[string]interface {}", "map[string]string")),  # the items are map[string]string
    ('{{ hasKey . "user" }}', ("map[string]interface {}",)),
    ("{{ upper }}", ("wrong number of args for upper",)),
    ("{{ index .password 99 }}", ("index out of range",)),
    ("{{ substr 9 2 .password }}", ("slice bounds out of range",)),
    ("{{ lt .password 3 }}", ("incompatible types for comparison",)),
    ("{{ eq (list 1) (list 1) }}", ("non-comparable",)),
    ("{{ range .password }}{{ end }}", ("range can't iterate over", "string")),
    ('{{ regexFind "(?=x)" .password }}', ("not valid RE2",)),
    ("{{ repeat -1 .password }}", ("negative Repeat count",)),
    ("{{ div 1 0 }}", ("integer divide by zero",)),
    ('{{ "unterminated }}', ("unterminated quoted string",)),
    ("{{ .user.x }}", ("can't evaluate field x in type string",)),
    ("{{ 99999999999999999999 }}", ("overflow",)),
]


@pytest.mark.parametrize(("source", "words"), REFUSED + GO_ERRORS, ids=[c[0][:50] for c in REFUSED + GO_ERRORS])
def test_error_names_the_construct(source: str, words: tuple[str, ...]) -> None:
    with pytest.raises(TemplateError) as caught:
        render_template(source, ITEMS, name="demo/app: spec.template.data.k")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("template demo/app: spec.template.data.k at 1:")
    for word in words:
        assert word in message
    assert SECRET not in message


def test_error_position_is_line_and_column() -> None:
    with pytest.raises(TemplateError, match=r"at 3:6: function env is not supported"):
        render_template("a\nb\nxx{{ env `X` }}", {})


def test_fail_shows_a_literal_message_but_withholds_a_computed_one() -> None:
    with pytest.raises(TemplateError, match="error calling fail: need a password"):
        render_template('{{ fail "need a password" }}', ITEMS)
    with pytest.raises(TemplateError) as caught:
        render_template("{{ fail .password }}", ITEMS)
    assert SECRET not in str(caught.value)
    assert "withheld" in str(caught.value)


def test_template_error_is_the_core_error_type() -> None:
    assert ReexportedTemplateError is TemplateError
    assert issubclass(TemplateError, SealkitError)


def test_size_limits_stop_runaway_output() -> None:
    with pytest.raises(TemplateError, match="limit"):
        render_template("{{ repeat 100000000 .password }}", ITEMS)
    with pytest.raises(TemplateError, match="limit"):
        render_template("{{ range 100000000 }}{{ end }}", ITEMS)
    with pytest.raises(TemplateError, match="nests"):
        render_template("{{" + "(" * 500 + "1" + ")" * 500 + "}}", ITEMS)
