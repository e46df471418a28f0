"""Go's duration syntax ("720h", "1h30m", "90s", "0"), as Bitnami's flags and kubectl's take it.

Where it sits: the core, used by the controller's settings (`--key-renew-period`, `--key-ttl`,
`--read-timeout`, ...) and by the Kubernetes client's `--request-timeout`. One parser, one error style.
"""

from __future__ import annotations

import datetime as dt
import re

from sealkit.errors import InputError

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# Go's longest duration (int64 nanoseconds): time.ParseDuration refuses anything longer.
MAX_SECONDS = (2**63 - 1) / 1e9


def parse_duration(text: str, what: str = "duration") -> dt.timedelta:
    """A Go duration ("720h", "1h30m", "0"): what Bitnami's --key-renew-period and --key-ttl take."""
    raw = text.strip()
    if raw in ("0", ""):
        return dt.timedelta(0)
    pos, total = 0, 0.0
    while pos < len(raw):
        match = _DURATION_PART.match(raw, pos)
        if not match:
            raise InputError(f"{text!r} is not a duration (e.g. 720h, 1h30m, 90s, 0)", where=what)
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if total > MAX_SECONDS:
        raise InputError(f"{text!r} is out of range (at most 2562047h47m16s)", where=what)
    return dt.timedelta(seconds=total)


def parse_timeout(text: str, what: str = "--request-timeout") -> float:
    """kubectl's --request-timeout (clientcmd.ParseTimeout): whole seconds or a duration; 0 = none."""
    raw = text.strip()
    if raw.isdigit():
        return float(raw)
    try:
        return parse_duration(raw, what).total_seconds()
    except InputError:
        raise InputError(
            f"{text!r} is not a timeout (whole seconds, or a number with a unit: 1s, 2m, 3h; 0 = none)", where=what
        ) from None
