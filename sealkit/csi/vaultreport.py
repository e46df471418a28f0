"""The verify report as a table for people and as JSON for pipelines (never a secret's value)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sealkit.csi import textreport
from sealkit.csi.vaultcheck import ObjectResult, Status
from sealkit.csi.vaultrun import Report

_COLUMNS = ("ENV", "APP", "OBJECT", "TYPE", "VERSION", "STATUS", "DETAIL")


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _version_cell(result: ObjectResult) -> str:
    requested = result.reference.version
    seen = result.observed.version if result.observed else ""
    if requested:
        return f"{requested[:12]} (pinned)"
    return f"latest={seen[:12]}" if seen else "latest"


def error_lines(report: Report) -> list[str]:
    """One line per vault that could not be read (one in all for a credential problem)."""
    if report.credential_error:
        return [report.credential_error]
    return [f"{f.message}: vault {f.vault}{f' ({f.url})' if f.url else ''}" for f in report.failures]


def summary(report: Report) -> str:
    counts = textreport.counts(Status, report.count, Status.OK)
    vaults = len({r.reference.vault for r in report.results})
    return f"{len(report.results)} reference(s) in {vaults} vault(s): {counts}"


def table(report: Report, *, only_problems: bool = False) -> str:
    rows = [
        (
            r.reference.environment,
            r.reference.application,
            r.reference.name,
            r.reference.type,
            _version_cell(r),
            r.status.value,
            "; ".join(r.problems),
        )
        for r in report.results
        if not only_problems or r.status is not Status.OK
    ]
    return textreport.table(_COLUMNS, rows)


def to_json(report: Report) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "summary": {status.value: report.count(status) for status in Status} | {"references": len(report.results)},
        "errors": error_lines(report),
        "vaults": dict(sorted(report.urls.items())),
        "objects": [
            {
                "environment": r.reference.environment,
                "application": r.reference.application,
                "vault": r.reference.vault,
                "object": r.reference.name,
                "type": r.reference.type,
                "pinned": r.reference.version or None,
                "version": r.observed.version if r.observed else None,
                "status": r.status.value,
                "problems": list(r.problems),
                "enabled": r.observed.enabled if r.observed else None,
                "notBefore": _iso(r.observed.not_before) if r.observed else None,
                "expires": _iso(r.observed.expires_on) if r.observed else None,
                "contentType": r.observed.content_type if r.observed else None,
                "certificateBacked": r.observed.certificate_backed if r.observed else None,
            }
            for r in report.results
        ],
    }
