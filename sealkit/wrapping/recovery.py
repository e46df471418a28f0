"""The disaster-recovery readiness check: which SealedSecrets would not open from the escrowed keys alone.

Where it sits: the core, behind `sealkit keys check-recovery`. Given the keys a rebuilt cluster would get back
(every escrowed key not disabled, wrapped ones opened through their KEK) and the SealedSecrets of a config repo, it
reports, per document, those no escrowed key opens, and the escrowed keys that could not be read or opened.
Nothing here touches a cluster; results name objects, files and fingerprints only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sealkit.documents import Document
from sealkit.errors import SealkitError
from sealkit.keys import KeyRing
from sealkit.reseal import verify_sealed_secret


@dataclass(frozen=True)
class Lost:
    """A SealedSecret that would not open after losing the cluster."""

    path: str
    document: int
    namespace: str
    name: str
    cause: str


@dataclass(frozen=True)
class UnusableEscrow:
    """An escrowed key that could not be read or opened (so it would not come back either)."""

    name: str
    fingerprint: str
    cause: str


@dataclass
class RecoveryReport:
    cluster: str
    keys: int
    checked: int = 0
    files: int = 0
    lost: list[Lost] = field(default_factory=list)
    unusable: list[UnusableEscrow] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.lost and not self.unusable


def check_documents(
    report: RecoveryReport, ring: KeyRing, files: Iterable[tuple[str, list[Document]]]
) -> RecoveryReport:
    """Try every SealedSecret document against `ring`; the ones that do not open go to `report.lost`."""
    for path, documents in files:
        report.files += 1
        for index, doc in enumerate(documents, start=1):
            meta = (doc.obj.get("metadata") or {}) if isinstance(doc.obj, dict) else {}
            namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
            report.checked += 1
            try:
                verify_sealed_secret(doc.obj, ring, where=doc.where, read_values=True)
            except SealkitError as exc:  # the row names the file and the object: its own where is not repeated
                cause = exc.what if exc.where == doc.where else str(exc)
                report.lost.append(Lost(path, index, namespace, name, cause))
    return report
