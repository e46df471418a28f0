"""The function map: Go's builtins plus the sprig functions sealkit renders, and why the rest are refused.

Bitnami uses sprig.GenericFuncMap() minus env, expandenv and getHostByName. Every name in that map
is either implemented here or listed in REFUSED with the reason, so a template never fails with
a vague "not defined" for a function Bitnami knows.
"""

from __future__ import annotations

from sealkit.gotemplate.fn_data import DATA_FUNCS
from sealkit.gotemplate.fn_go import GO_FUNCS
from sealkit.gotemplate.fn_regex import REGEX_FUNCS
from sealkit.gotemplate.fn_strings import STRING_FUNCS
from sealkit.gotemplate.registry import Func

FUNCS: dict[str, Func] = {**GO_FUNCS, **STRING_FUNCS, **DATA_FUNCS, **REGEX_FUNCS}

_ENV = "reads the controller's environment (Bitnami removes it from its function map too)"
_NETWORK = "makes a network lookup (Bitnami removes it from its function map too)"
_RANDOM = "gives a different result on every render, which would rewrite the Secret each time"
_CLOCK = "depends on the clock, so the Secret would change from one render to the next"
_NOT_IMPLEMENTED = "is a sprig function sealkit does not implement"

REFUSED: dict[str, str] = {
    "env": _ENV,
    "expandenv": _ENV,
    "getHostByName": _NETWORK,
    "call": "needs a function value, and template data never holds one",
    **dict.fromkeys(
        [
            "randAlphaNum",
            "randAlpha",
            "randAscii",
            "randNumeric",
            "randInt",
            "randBytes",
            "uuidv4",
            "shuffle",
            "bcrypt",
            "htpasswd",
            "genPrivateKey",
            "genCA",
            "genCAWithKey",
            "genSelfSignedCert",
            "genSelfSignedCertWithKey",
            "genSignedCert",
            "genSignedCertWithKey",
            "buildCustomCert",
            "encryptAES",
        ],
        _RANDOM,
    ),
    **dict.fromkeys(
        [
            "now",
            "ago",
            "date",
            "date_in_zone",
            "dateInZone",
            "date_modify",
            "dateModify",
            "must_date_modify",
            "mustDateModify",
            "htmlDate",
            "htmlDateInZone",
            "toDate",
            "mustToDate",
            "unixEpoch",
            "duration",
            "durationRound",
        ],
        _CLOCK,
    ),
    **dict.fromkeys(
        [
            "wrap",
            "wrapWith",
            "snakecase",
            "camelcase",
            "kebabcase",
            "randSeededNumeric",
            "add1f",
            "addf",
            "subf",
            "mulf",
            "divf",
            "round",
            "merge",
            "mergeOverwrite",
            "mustMerge",
            "mustMergeOverwrite",
            "derivePassword",
            "decryptAES",
            "semver",
            "semverCompare",
            "urlParse",
            "urlJoin",
        ],
        _NOT_IMPLEMENTED,
    ),
}


def check_function(name: str) -> str | None:
    """None when the function can be rendered; otherwise the one-line reason it cannot."""
    if name in FUNCS:
        return None
    if name in REFUSED:
        return f"function {name} is not supported: it {REFUSED[name]}"
    return f'function "{name}" not defined (neither a Go template builtin nor a sprig function)'
