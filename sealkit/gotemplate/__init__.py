"""A small, safe interpreter for the Go text/template + sprig subset Bitnami Sealed Secrets renders.

`spec.template.data` entries are Go templates over the decrypted items. This package lexes,
parses and executes them without eval or any Python template engine, and refuses what it does
not render (named templates, environment/network/random/clock functions) with a TemplateError
naming the construct. See docs/templates.md for the supported list and the semantics notes.
"""

from __future__ import annotations

from sealkit.errors import TemplateError
from sealkit.gotemplate.render import check_syntax, render_template

__all__ = ["TemplateError", "check_syntax", "render_template"]
