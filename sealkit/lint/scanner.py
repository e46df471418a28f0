"""Files in, sorted findings out: read every YAML file once, run the per-object rules, then the
rules that need the whole repo (Secret references, generated CSI output).

Kustomize: a `kustomization.yaml` that sets `namespace` gives it to the files it lists directly
under `resources` that have none (that is the namespace kustomize would give them), and its
`secretGenerator` entries count as provided Secrets.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit.errors import InputError
from sealkit.files import SKIPPED_DIRS
from sealkit.lint import catalog, csi, literals, loader, sealed, secrets
from sealkit.lint.config import CONFIG_NAMES, LintConfig
from sealkit.lint.model import Finding, Hit, Severity
from sealkit.lint.refs import SecretIndex, generated_names

YAML_SUFFIXES = (".yaml", ".yml")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class Source:
    """One input: a file on disk, or text from stdin (`path` None)."""

    display: str
    path: Path | None
    data: bytes | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        with self.path.open("rb") as handle:
            head = handle.read(loader.MAX_FILE_BYTES + 1)
        return head


def discover(paths: Iterable[str | Path]) -> list[Source]:
    """Named files as given; directories walked for .yaml/.yml files (VCS and venv folders skipped)."""
    found: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(Source(str(raw), path))
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                for name in sorted(files):
                    if (name.lower().endswith(YAML_SUFFIXES) or name == "Kustomization") and name not in CONFIG_NAMES:
                        full = Path(root) / name
                        found.append(Source(str(full), full))
        else:
            raise InputError(f"{raw}: no such file or directory")
    return found


@dataclass
class LintReport:
    """Every finding after the config is applied, with what was looked at."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    objects: int = 0

    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in Severity}
        for finding in self.findings:
            out[finding.severity.label] += 1
        return out

    def failed(self, threshold: Severity | None) -> bool:
        return threshold is not None and any(f.severity >= threshold for f in self.findings)


def _resource_paths(kustomization: Mapping[str, Any]) -> Iterator[str]:
    for entry in kustomization.get("resources") or []:
        if isinstance(entry, str) and "://" not in entry and entry.lower().endswith(YAML_SUFFIXES):
            yield entry


def _ignored_by_annotation(manifest: loader.Manifest) -> set[str]:
    annotations = manifest.metadata.get("annotations")
    value = annotations.get(catalog.IGNORE_ANNOTATION) if isinstance(annotations, Mapping) else None
    if not isinstance(value, str):
        return set()
    return {part.upper() for part in value.replace(",", " ").split()}


class Scanner:
    """One lint run: configure once, feed sources, collect findings."""

    def __init__(self, config: LintConfig | None = None, checks: sealed.SealedChecks | None = None) -> None:
        self.config = config or LintConfig()
        self.checks = checks or sealed.SealedChecks()
        self.report = LintReport()
        self._relative: dict[str, str] = {}

    def _rel(self, display: str) -> str:
        rel = self._relative.get(display)
        if rel is None:
            rel = self._relative[display] = self.config.relative(display)
        return rel

    def _emit(self, display: str, hit: Hit, ignored: Collection[str] = ()) -> None:
        severity = self.config.severity(hit.rule, self._rel(display))
        if severity is None:
            return
        if hit.rule.id in ignored and hit.rule.severity < Severity.CRITICAL:
            return
        self.report.findings.append(
            Finding(display, hit.line, hit.rule, severity, hit.message, hit.fix or hit.rule.fix)
        )

    def run(self, sources: Iterable[Source], progress: Callable[[int], None] | None = None) -> LintReport:
        """Kustomizations first (namespaces they set), then each file once; nothing stays parsed."""
        pending = [s for s in sources if not self.config.ignores_file(self._rel(s.display))]
        index = SecretIndex()
        defaults: dict[str, str] = {}
        kustomizations = [s for s in pending if s.path is not None and s.path.name in KUSTOMIZATION_NAMES]
        preloaded: dict[str, loader.LoadedFile] = {}
        for source in kustomizations:
            loaded = self._load(source)
            if loaded is not None:
                preloaded[source.display] = loaded
                self._kustomization(source, loaded, index, defaults)
        specs: list[Source] = []
        for source in pending:
            loaded = preloaded.pop(source.display, None) or self._load(source)
            if loaded is None:
                continue
            self._check_file(source, loaded, index, defaults.get(_key(source), ""), specs)
            if progress is not None:
                progress(self.report.files)
        for display, hit in index.missing(self.config.known_secrets):
            self._emit(display, hit)
        for spec in specs:
            assert spec.path is not None
            for display, hit in csi.check_generated(spec.path, spec.display):
                self._emit(display, hit)
        self.report.findings.sort(key=lambda f: f.sort_key)
        return self.report

    def _load(self, source: Source) -> loader.LoadedFile | None:
        try:
            data = source.read()
        except OSError as exc:
            self._emit(source.display, Hit(catalog.YAML_INVALID, 1, f"cannot read: {exc.strerror or 'error'}"))
            return None
        return loader.load_bytes(data)

    def _check_file(
        self, source: Source, loaded: loader.LoadedFile, index: SecretIndex, default_namespace: str, specs: list[Source]
    ) -> None:
        display = source.display
        self.report.files += 1
        for hit in loaded.hits:
            self._emit(display, hit)
        for manifest in loaded.manifests:
            self.report.objects += 1
            ignored = _ignored_by_annotation(manifest)
            index.add_manifest(
                display,
                manifest,
                manifest.namespace or default_namespace,
                refs=catalog.SECRET_REF_MISSING.id not in ignored,
            )
            for hit in self._object_hits(manifest, default_namespace):
                self._emit(display, hit, ignored)
            if csi.is_csi_spec(manifest) and source.path is not None and source not in specs:
                specs.append(source)

    def _object_hits(self, manifest: loader.Manifest, default_namespace: str) -> Iterator[Hit]:
        yield from secrets.check_secret(manifest)
        yield from secrets.check_last_applied(manifest)
        yield from sealed.check_sealed(manifest, default_namespace, self.checks)
        yield from csi.check_spc(manifest)
        yield from csi.check_csi_volumes(manifest)
        yield from literals.check_literals(manifest)

    def _kustomization(
        self, source: Source, loaded: loader.LoadedFile, index: SecretIndex, defaults: dict[str, str]
    ) -> None:
        """The namespace kustomize sets on the files it lists, and its secretGenerator names."""
        if not loaded.manifests or source.path is None:
            return
        kustomization = loaded.manifests[0].obj
        namespace = kustomization.get("namespace")
        namespace = namespace if isinstance(namespace, str) else ""
        for ns, name in generated_names(kustomization, namespace):
            index.provide(ns, name)
        if not namespace:
            return
        directory = os.path.dirname(_key(source))  # noqa: PTH120 - plain strings, as kustomize joins them
        for resource in _resource_paths(kustomization):
            defaults.setdefault(os.path.normpath(os.path.join(directory, resource)), namespace)  # noqa: PTH118


def _key(source: Source) -> str:
    """A file's absolute, normalised path (symlinks kept), to match kustomize resource entries."""
    return os.path.normpath(os.path.abspath(source.path if source.path is not None else source.display))  # noqa: PTH100


def lint(
    paths: Iterable[str | Path],
    config: LintConfig | None = None,
    checks: sealed.SealedChecks | None = None,
) -> LintReport:
    """Lint every YAML file under `paths` (files or directories)."""
    return Scanner(config, checks).run(discover(paths))
