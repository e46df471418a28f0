"""`check_syntax`: an entry parsed and its functions checked as `render_template` checks them, never executed."""

from __future__ import annotations

import pytest

from sealkit.gotemplate import TemplateError, check_syntax, render_template


def test_it_never_runs_the_template() -> None:
    source = '{{ if hasPrefix "Pl4" .password }}{{ else }}{{ fail "no" }}{{ end }}'
    check_syntax(source, name="spec.template.data[probe]")  # an answer about the values only when executed
    with pytest.raises(TemplateError):
        render_template(source, {"password": "other"}, name="spec.template.data[probe]")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a\n{{ .x ", "template spec.template.data[k] at 2:"),
        ('{{ env "HOME" }}', "template spec.template.data[k] at 1:"),
        ("{{" * 5000, "template spec.template.data[k] at "),
    ],
    ids=["unclosed", "refused-function", "deep"],
)
def test_what_does_not_parse_is_the_same_error_as_rendering_gives(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as checked:
        check_syntax(source, name="spec.template.data[k]")
    with pytest.raises(TemplateError) as rendered:
        render_template(source, {}, name="spec.template.data[k]")
    assert str(checked.value) == str(rendered.value) and str(checked.value).startswith(message)
