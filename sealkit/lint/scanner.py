"""Files in, sorted findings out: read every file once, look for key material in all of them,
parse what is YAML, JSON or `.env`, run the per-object rules, then the rules that need the whole
repo (Secret references, generated CSI output).

Kustomize: a `kustomization.yaml` that sets `namespace` gives it to the files it lists directly
under `resources` that have none (that is the namespace kustomize would give them), its
`secretGenerator` entries count as provided Secrets, and the plaintext they are built from is
reported (SK105); every path it names is read by the run or reported at its entry (SK010-SK013,
kustomize_paths). One file's content never stops the run: an unexpected failure on a file is a
finding naming it (SK009), and the run goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sealkit.errors import ConnectionFailure, os_reason
from sealkit.lint import (
    catalog,
    csi,
    dotenv,
    embedded,
    keymaterial,
    kustomize,
    kustomize_paths,
    literals,
    loader,
    sealed,
    secrets,
    sops,
)
from sealkit.lint.config import LintConfig
from sealkit.lint.discovery import Discovery, Source, discover
from sealkit.lint.envs import EnvironmentIndex
from sealkit.lint.generators import GeneratorCheck
from sealkit.lint.model import Finding, Hit, Severity
from sealkit.lint.refs import SecretIndex, generated_names

__all__ = ["LintReport", "Scanner", "Source", "discover", "lint"]

logger = logging.getLogger(__name__)

YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)
KUSTOMIZATION_NAMES = kustomize_paths.KUSTOMIZATION_NAMES


LFS_POINTER = b"version https://git-lfs.github.com/spec/"  # how every Git LFS pointer file begins


def file_kind(name: str) -> str:
    """How a file is parsed beyond the key-material scan: yaml, json, env, or other (keys only)."""
    lower = name.lower()
    if lower.endswith(YAML_SUFFIXES) or name == "Kustomization":
        return "yaml"
    if lower.endswith(JSON_SUFFIXES):
        return "json"
    if dotenv.is_env_file(name):
        return "env"
    return "other"


def _kind(source: Source, manifests: Collection[str] = ()) -> str:
    """`file_kind` of a file; stdin and a pipe named on the command line are YAML (what `kustomize build` and
    `kubectl get -o yaml` print), and so is a file a kustomization reads as a resource or patch, whatever its
    name (`manifests`: their absolute, normalised paths)."""
    if source.path is None or source.stream:
        return "yaml"
    kind = file_kind(source.path.name)
    return "yaml" if kind == "other" and _key(source) in manifests else kind


@dataclass
class LintReport:
    """Every finding after the config is applied, with what was looked at."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0  # files read (whatever they held)
    objects: int = 0
    skipped: int = 0  # files not applicable: ignored by the config, symlinks, special files

    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in Severity}
        for finding in self.findings:
            out[finding.severity.label] += 1
        return out

    def failed(self, threshold: Severity | None) -> bool:
        return threshold is not None and any(f.severity >= threshold for f in self.findings)


def _resource_paths(kustomization: Mapping[str, Any]) -> Iterator[str]:
    """Files (and directories) listed under `resources`, whatever their names; not URLs."""
    resources = kustomization.get("resources")
    for entry in resources if isinstance(resources, list) else []:
        if isinstance(entry, str) and "://" not in entry:
            yield entry


def _ignored_by_annotation(manifest: loader.Manifest) -> set[str]:
    return _ignored_by_annotation_of(manifest.obj)


def _ignored_by_annotation_of(obj: Any) -> set[str]:
    """The rules a document's `sealkit.io/lint-ignore` annotation turns off (none for what is not an object)."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    value = annotations.get(catalog.IGNORE_ANNOTATION) if isinstance(annotations, Mapping) else None
    if not isinstance(value, str):
        return set()
    return {part.upper() for part in value.replace(",", " ").split()}


class Scanner:
    """One lint run: configure once, feed sources, collect findings."""

    def __init__(
        self,
        config: LintConfig | None = None,
        checks: sealed.SealedChecks | None = None,
        limit: int | None = None,
        environments: EnvironmentIndex | None = None,
    ) -> None:
        self.config = config or LintConfig()
        self.checks = checks or sealed.SealedChecks()
        self.environments = environments
        self.limit = loader.max_input_bytes() if limit is None else limit
        self.report = LintReport()
        self._relative: dict[str, str] = {}
        self._seen: set[tuple[str, int, str]] = set()
        self._manifests: set[str] = set()  # files kustomizations read as manifests, whatever their names

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
        key = (display, hit.line, hit.rule.id + hit.message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.report.findings.append(
            Finding(display, hit.line, hit.rule, severity, hit.message, hit.fix or hit.rule.fix)
        )

    def _read(self, source: Source) -> bytes | Hit:
        try:
            return source.read(self.limit)
        except OSError as exc:  # read_file reports I/O errors itself; this covers anything it missed
            return Hit(catalog.FILE_UNREADABLE, 1, f"cannot be read ({os_reason(exc)}): not checked")

    def run(
        self,
        sources: Iterable[Source] | Discovery,
        progress: Callable[[int], None] | None = None,
    ) -> LintReport:
        """Kustomizations first (namespaces they set, generators), then each file once; nothing stays parsed."""
        listed: list[tuple[str, bool]] = []
        roots = [os.path.abspath(os.curdir)]  # noqa: PTH100 - sources given without a discovery: the current directory
        if isinstance(sources, Discovery):
            self.report.skipped += sources.skipped
            listed, roots = sources.listed, sources.roots
            sources = sources.sources
        pending: list[Source] = []
        ignored: set[str] = set()
        for source in sources:
            if source.config or self.config.ignores_file(self._rel(source.display)):
                self.report.skipped += 1
                self._guarded(source, partial(self._keys_only, source))
                if source.path is not None:
                    ignored.add(_key(source))
            else:
                pending.append(source)
        # A link lint cannot follow is reported where it is (SK007), and still as what a kustomization names.
        scanned = {_key(s) for s in pending if s.path is not None and s.link is None}
        scope = kustomize_paths.Scope(scanned, ignored, listed, roots)
        kustomizations = [s for s in pending if s.path is not None and s.path.name in KUSTOMIZATION_NAMES]
        for source in kustomizations:
            scope.add_kustomization(_key(source))
        paths = kustomize_paths.PathCheck(scope)
        index = SecretIndex()
        defaults: dict[str, str] = {}
        preloaded: dict[str, tuple[bytes | Hit, loader.LoadedFile | None]] = {}
        for source in kustomizations:
            data = self._read(source)
            loaded = self._guarded(source, partial(self._parse, source, data))
            preloaded[source.display] = (data, loaded)
            if loaded is not None:
                work = partial(self._kustomization, source, loaded, index, defaults, scanned, paths)
                self._guarded(source, work)
        for display, hit in paths.cycles():
            self._emit(display, hit)
        specs: list[Source] = []
        for source in pending:
            first = preloaded.pop(source.display, None)
            if first is not None:
                data, loaded = first
            else:
                data = self._read(source)
                loaded = self._guarded(source, partial(self._parse, source, data))
            self.report.files += 1
            namespace = defaults.get(_key(source), "")
            self._guarded(source, partial(self._check_file, source, data, loaded, index, namespace, specs))
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

    def _guarded(self, source: Source, work: Callable[[], Any]) -> Any:
        """Run one file's work; an unexpected failure is a finding naming the file, never the end of the run."""
        try:
            return work()
        except ConnectionFailure:
            raise  # the controller cannot be reached (--online): every further file would fail the same way
        except Exception as exc:  # fail closed per file: the rest of the repo is still checked
            logger.debug("%s: %s while checking", source.display, type(exc).__name__, exc_info=True)
            self._emit(
                source.display,
                Hit(catalog.INTERNAL_ERROR, 1, "checking this file failed unexpectedly: not fully checked"),
            )
            return None

    def _keys_only(self, source: Source) -> None:
        """A file under the config's `ignore:` is not read as anything, but a private key in it is still one
        committed (SK104, critical, never ignored): one over the size cap is scanned piece by piece (ignoring it
        is the documented way out of SK004, never of SK104); a pipe over the cap cannot be, and is SK004. A file
        that cannot be read at all is passed over as ignored."""
        data = self._read(source)
        if isinstance(data, Hit):
            if data.rule is not catalog.FILE_TOO_LARGE:
                return
            if source.path is None or source.stream:
                self._emit(source.display, data)
                return
            try:
                keys = keymaterial.find_keys_in_chunks(loader.read_chunks(source.path, keymaterial.CHUNK_BYTES))
            except OSError as exc:
                self._emit(source.display, Hit(catalog.FILE_UNREADABLE, 1, f"cannot be read ({os_reason(exc)}): "
                                               "not checked for private keys"))  # fmt: skip
                return
        else:
            keys = keymaterial.find_keys(data)
        for key in keys:
            self._emit(source.display, Hit(catalog.PRIVATE_KEY, key.line, f"{key.what} is committed in this file"))

    def _parse(self, source: Source, data: bytes | Hit) -> loader.LoadedFile | None:
        """The file's documents when it is YAML or JSON (stdin is YAML); None for other kinds."""
        if isinstance(data, Hit):
            return None
        kind = _kind(source, self._manifests)
        if kind not in ("yaml", "json"):
            return None
        return loader.load_bytes(data, json_file=kind == "json")

    def _check_file(
        self,
        source: Source,
        data: bytes | Hit,
        loaded: loader.LoadedFile | None,
        index: SecretIndex,
        default_namespace: str,
        specs: list[Source],
    ) -> None:
        display = source.display
        if isinstance(data, Hit):
            self._emit(display, data)
            return
        if data.startswith(LFS_POINTER):  # what git commits is a pointer; the content lives in LFS storage
            why = "is a Git LFS pointer: its content is not in the work tree (git lfs pull), not checked"
            self._emit(display, Hit(catalog.FILE_UNREADABLE, 1, why, "Fetch the content (git lfs pull) and lint "
                                    "again, or commit the file to git itself."))  # fmt: skip
            return
        for key in keymaterial.find_keys(data):
            self._emit(display, Hit(catalog.PRIVATE_KEY, key.line, f"{key.what} is committed in this file"))
        if _kind(source, self._manifests) == "env":
            self._check_env(source, data)
        if loaded is None:
            return
        for hit in loaded.hits:
            self._emit(display, hit)
            if hit.rule is catalog.TEMPLATE_SKIPPED and isinstance(data, bytes):
                self._check_template(display, data)
        own = {id(manifest.obj) for manifest in loaded.manifests}
        kustomization = source.path is not None and source.path.name in KUSTOMIZATION_NAMES
        nested = embedded.may_hold_secret(data)
        for number, (obj, node) in enumerate(loaded.documents, 1):
            block = sops.sops_block(obj)
            if block is not None:
                for hit in sops.check_document(obj, node, block):
                    self._emit(display, hit)
            if not nested:
                continue
            for hit in embedded.embedded_hits(obj, node, number, own=own, kustomization=kustomization):
                self._emit(display, hit, _ignored_by_annotation_of(obj))
        for manifest in loaded.manifests:
            self.report.objects += 1
            ignored = _ignored_by_annotation(manifest)
            namespace = default_namespace or manifest.namespace  # kustomize's namespace wins over the file's
            index.add_manifest(
                display,
                manifest,
                namespace,
                refs=catalog.SECRET_REF_MISSING.id not in ignored,
            )
            for hit in self._object_hits(manifest, default_namespace):
                self._emit(display, hit, ignored)
            if self.environments is not None and source.path is not None:
                for hit in self.environments.check(manifest, _key(source), namespace):
                    self._emit(display, hit, ignored)
            if csi.is_csi_spec(manifest) and source.path is not None and source not in specs:
                specs.append(source)

    def _check_template(self, display: str, data: bytes) -> None:
        """What a Helm/Go template writes whatever its values: a Secret's hard-coded values (SK101-SK103) and
        credential-shaped literals (SK502). Only those: its if/else branches may repeat keys, and so on."""
        text = loader.decode(data)
        if isinstance(text, Hit):
            return
        for manifest in loader.load_text(loader.detemplated(text)).manifests:
            manifest = dataclasses.replace(manifest, obj=_hard_coded(manifest.obj))
            hits = [*secrets.check_secret(manifest), *secrets.check_last_applied(manifest)]
            hits += [h for h in literals.check_literals(manifest) if h.rule is catalog.CREDENTIAL_LITERAL]
            for hit in hits:
                self._emit(display, dataclasses.replace(hit, message=f"{hit.message} (in a template)"))

    def _check_env(self, source: Source, data: bytes) -> None:
        assert source.path is not None
        text = loader.decode(data)
        if isinstance(text, Hit):
            self._emit(source.display, text)
            return
        if dotenv.is_sops_env(text):
            hits = sops.check_env(text)
        else:
            hits = dotenv.check_env_text(text, source.path.name, template=dotenv.is_env_template(source.path.name))
        for hit in hits:
            self._emit(source.display, hit)

    def _object_hits(self, manifest: loader.Manifest, default_namespace: str) -> Iterator[Hit]:
        yield from secrets.check_secret(manifest)
        yield from secrets.check_last_applied(manifest)
        yield from sealed.check_sealed(manifest, default_namespace, self.checks)
        yield from csi.check_spc(manifest)
        yield from csi.check_csi_volumes(manifest)
        yield from literals.check_literals(manifest)
        yield from kustomize.object_patch_hits(manifest)

    def _kustomization(
        self,
        source: Source,
        loaded: loader.LoadedFile,
        index: SecretIndex,
        defaults: dict[str, str],
        scanned: set[str],
        paths: kustomize_paths.PathCheck,
    ) -> None:
        """The namespace kustomize sets on the files it lists, its secretGenerator names and plaintext, and
        every path it names that is not there, leaves the repo or is not read (SK010-SK012)."""
        if not loaded.documents or source.path is None:
            return
        obj, node = loaded.documents[0]
        if not isinstance(obj, Mapping):
            return
        for hit in paths.check(source.display, _key(source), loader.Manifest(obj, node, 1)):
            self._emit(source.display, hit)
        check = GeneratorCheck(source.display, source.path, scanned, lambda p: loader.read_file(p, self.limit))
        for display, hit in check.run(loader.Manifest(obj, node, 1)):
            self._emit(display, hit)
        inline = kustomize.KustomizationCheck(source.display, source.path, scanned, check.read)
        for display, hit in inline.run(loader.Manifest(obj, node, 1)):
            self._emit(display, hit)
        directory = os.path.dirname(_key(source))  # noqa: PTH120 - plain strings, as kustomize joins them
        for entry in kustomize.referenced_files(obj):
            self._manifests.add(os.path.normpath(os.path.join(directory, entry)))  # noqa: PTH118
        namespace = obj.get("namespace")
        namespace = namespace if isinstance(namespace, str) else ""
        for ns, name in generated_names(obj, namespace):
            index.provide(ns, name)
        if not namespace:
            return
        for resource in _resource_paths(obj):
            defaults.setdefault(os.path.normpath(os.path.join(directory, resource)), namespace)  # noqa: PTH118


def _hard_coded(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """A Secret from a template without the data/stringData values a template action fills in."""
    out = dict(obj)
    for field_name in ("data", "stringData"):
        values = obj.get(field_name)
        if isinstance(values, Mapping):
            out[field_name] = {k: v for k, v in values.items() if not (isinstance(v, str) and loader.TEMPLATED in v)}
    return out


def _key(source: Source) -> str:
    """A file's absolute, normalised path (symlinks kept), to match kustomize resource entries."""
    return os.path.normpath(os.path.abspath(source.path if source.path is not None else source.display))  # noqa: PTH100


def lint(
    paths: Iterable[str | Path],
    config: LintConfig | None = None,
    checks: sealed.SealedChecks | None = None,
    *,
    all_files: bool = False,
    limit: int | None = None,
    environments: EnvironmentIndex | None = None,
) -> LintReport:
    """Lint every file under `paths` (files or directories; git-tracked files inside a work tree); with
    `environments` (the spec's), also whether each SealedSecret sits in the environment it was sealed for."""
    return Scanner(config, checks, limit, environments).run(discover(paths, all_files=all_files))
