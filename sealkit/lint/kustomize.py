"""What a kustomization carries besides `resources`: inline patches, ConfigMap generators, Helm values.

kustomize builds Secrets and ConfigMaps from text the repo commits in the kustomization itself, or in
files it names whatever their extension. Checked here, reported where the text is:

- inline patches (`patches[].patch`, `patchesStrategicMerge` entries that are YAML, `patchesJson6902[].patch`)
  and the same in a Flux `Kustomization` (`spec.patches`...) and a `HelmRelease`'s kustomize post-renderers:
  an object in a patch gets the Secret and literal rules (SK101-SK103, SK501-SK503); a JSON 6902 operation
  that writes `data`/`stringData` of a Secret target is a plaintext Secret (SK101), and any value with a
  credential's shape is SK502. Patch files named by `path` are followed when they are in the scan.
- `configMapGenerator` literals, env files and files: ConfigMap data (SK501, SK502); a Secret in a file it
  names (Helm values for a HelmRelease's `valuesFrom`, say) is one (SK101, SK102), as in a ConfigMap's string.
- `helmCharts[].valuesInline`: Helm values, like a HelmRelease's (SK502, SK503).

`referenced_files` names the files kustomize reads as manifests (resources, patch files) or as Helm values
(`helmCharts` `valuesFile`/`additionalValuesFiles`), so a Secret in `secret.txt` listed under `resources`, or
in a chart's `extraObjects` in `values.txt`, is parsed as YAML, as kustomize parses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from sealkit.lint import catalog, dotenv, embedded, kustomize_paths, literals, loader, secrets
from sealkit.lint.generators import KustomizationFiles
from sealkit.lint.loader import Manifest, decode
from sealkit.lint.model import Hit

Reader = Callable[[Path], bytes | Hit]
Located = tuple[str, Hit]  # (display path of the file the hit is in, hit)
YamlPath = tuple[str | int, ...]

_DATA_FIELDS = ("data", "stringData")
_READ_AS_MANIFESTS = (".yaml", ".yml", ".json")  # the scan parses these itself (nested Secrets found there)
_WRITE_OPS = ("add", "replace")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_url(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "gitlab.com/", "bitbucket.org/"))


def _inline(text: str) -> bool:
    """A patchesStrategicMerge entry that is the patch itself rather than a file name."""
    return "\n" in text.strip() or text.lstrip().startswith(("{", "apiVersion:", "kind:"))


def referenced_files(obj: Mapping[str, Any]) -> Iterator[str]:
    """Relative paths of the files a kustomization reads as manifests or patches (not URLs, not inline)."""
    for entry in _list(obj.get("resources")) + _list(obj.get("bases")):
        if isinstance(entry, str) and entry.strip() and not _is_url(entry):
            yield entry.strip()
    for entry in _list(obj.get("patchesStrategicMerge")):
        if isinstance(entry, str) and entry.strip() and not _inline(entry):
            yield entry.strip()
    for field in ("patches", "patchesJson6902"):
        for entry in _list(obj.get(field)):
            if isinstance(entry, Mapping) and isinstance(entry.get("path"), str) and entry["path"].strip():
                yield entry["path"].strip()
    for _, _, path in kustomize_paths.values_files(obj):  # Helm values, parsed as YAML whatever their names
        if not kustomize_paths.is_remote(path):
            yield path


def _target_kind(entry: Mapping[str, Any]) -> str:
    target = entry.get("target")
    kind = target.get("kind") if isinstance(target, Mapping) else None
    return kind if isinstance(kind, str) else ""


def _shift(hit: Hit, line: int) -> Hit:
    return dataclasses.replace(hit, line=line)


def _object_hits(manifest: Manifest, target_kind: str) -> Iterator[Hit]:
    """The rules for plaintext on one patch object; a mapping patched into a Secret target is a Secret."""
    obj = manifest.obj
    if target_kind == "Secret" and "kind" not in obj:
        manifest = dataclasses.replace(manifest, obj={"kind": "Secret", **obj})
    yield from secrets.check_secret(manifest)
    yield from secrets.check_last_applied(manifest)
    yield from literals.check_literals(manifest)


def _op_hits(ops: list[Any], node: yaml.Node, target_kind: str, where: str) -> Iterator[Hit]:
    """JSON 6902 operations: a value written into a Secret's data/stringData, a credential-shaped value."""
    for i, op in enumerate(ops):
        if not isinstance(op, Mapping) or op.get("op") not in _WRITE_OPS or "value" not in op:
            continue
        line = loader.node_line(node, (i, "value"))
        path = op.get("path")
        parts = path.strip("/").split("/") if isinstance(path, str) else []
        value = op["value"]
        if target_kind == "Secret" and parts and parts[0] in _DATA_FIELDS:
            filled = value not in (None, "", {}) if len(parts) > 1 else secrets.filled(value)
            if filled:
                yield Hit(
                    catalog.PLAINTEXT_SECRET,
                    line,
                    f"{where} writes {parts[0]} of Secret target in plain text (base64 is an encoding, not encryption)",
                )
                continue
        key = parts[-1] if parts else "value"
        for sub, name, text in literals.strings(value, (i, "value"), key):
            hit = literals.judge(name, text, f"{where} value {path}", strict=False, line=loader.node_line(node, sub))
            if hit is not None and hit.rule is catalog.CREDENTIAL_LITERAL:
                yield hit


def _content_hits(content: Any, node: yaml.Node, target_kind: str, where: str) -> Iterator[Hit]:
    """Hits for patch content already read as YAML (a list of operations, or an object)."""
    if isinstance(content, list):
        yield from _op_hits(content, node, target_kind, where)
    elif isinstance(content, Mapping):
        yield from _object_hits(Manifest(content, node, 1), target_kind)


def _text_hits(text: str, target_kind: str, where: str) -> Iterator[Hit]:
    """Hits for a patch written as YAML text, at the text's own lines (1-based)."""
    loaded = loader.load_text(text)
    if loaded.hits and not loaded.documents:
        yield Hit(catalog.YAML_INVALID, 1, f"{where} is not valid YAML: not checked")
        return
    for content, node in loaded.documents:
        yield from _content_hits(content, node, target_kind, where)


def _string_hits(root: yaml.Node, path: YamlPath, text: str, target_kind: str, where: str) -> Iterator[Hit]:
    """A patch held in a string: a literal block (`|`) maps line for line, other styles to the key's line."""
    key_line = loader.node_line(root, path)
    scalar = loader.node_at(root, path)
    literal = isinstance(scalar, yaml.ScalarNode) and scalar.style == "|"
    first = int(scalar.start_mark.line) + 1 if literal and scalar is not None else key_line
    for hit in _text_hits(text, target_kind, where):
        yield _shift(hit, first + hit.line if literal else key_line)


def patch_hits(root: yaml.Node, base: YamlPath, holder: Mapping[str, Any], what: str) -> Iterator[Hit]:
    """Inline patches under `holder` (a kustomization, a Flux Kustomization's spec, a post-renderer's kustomize)."""
    for i, entry in enumerate(_list(holder.get("patches"))):
        if isinstance(entry, Mapping) and "patch" in entry:
            yield from _one(root, (*base, "patches", i, "patch"), entry["patch"], _target_kind(entry), f"{what} patch")
    for i, entry in enumerate(_list(holder.get("patchesStrategicMerge"))):
        if not isinstance(entry, str) or _inline(entry):
            yield from _one(root, (*base, "patchesStrategicMerge", i), entry, "", f"{what} strategic merge patch")
    for i, entry in enumerate(_list(holder.get("patchesJson6902"))):
        if isinstance(entry, Mapping) and "patch" in entry:
            where = f"{what} JSON 6902 patch"
            yield from _one(root, (*base, "patchesJson6902", i, "patch"), entry["patch"], _target_kind(entry), where)


def _one(root: yaml.Node, path: YamlPath, content: Any, target_kind: str, where: str) -> Iterator[Hit]:
    if isinstance(content, str):
        yield from _string_hits(root, path, content, target_kind, where)
        return
    node = loader.node_at(root, path)
    if node is not None:
        yield from _content_hits(content, node, target_kind, where)


def object_patch_hits(manifest: Manifest) -> Iterator[Hit]:
    """Inline patches of a Flux Kustomization and of a HelmRelease's kustomize post-renderers."""
    spec = manifest.obj.get("spec")
    if not isinstance(spec, Mapping):
        return
    name = manifest.name or "(unnamed)"
    if manifest.kind == "Kustomization" and manifest.api_version.startswith("kustomize.toolkit.fluxcd.io/"):
        yield from patch_hits(manifest.node, ("spec",), spec, f"Kustomization {name}")
    if manifest.kind == "HelmRelease" and manifest.api_version.startswith("helm.toolkit.fluxcd.io/"):
        for j, renderer in enumerate(_list(spec.get("postRenderers"))):
            kustomize = renderer.get("kustomize") if isinstance(renderer, Mapping) else None
            if isinstance(kustomize, Mapping):
                base = ("spec", "postRenderers", j, "kustomize")
                yield from patch_hits(manifest.node, base, kustomize, f"HelmRelease {name} post-renderer")


class KustomizationCheck(KustomizationFiles):
    """Everything a kustomization.yaml carries inline or names, beyond secretGenerator (generators.py)."""

    def run(self, manifest: Manifest) -> Iterator[Located]:
        obj = manifest.obj
        for found in patch_hits(manifest.node, (), obj, "kustomization"):
            yield self.display, found
        yield from self._patch_files(obj)
        yield from self._config_maps(manifest)
        for i, chart in enumerate(_list(obj.get("helmCharts"))):
            values = chart.get("valuesInline") if isinstance(chart, Mapping) else None
            name = (
                chart.get("name") if isinstance(chart, Mapping) and isinstance(chart.get("name"), str) else f"#{i + 1}"
            )
            for path, key, text in literals.strings(values, ("helmCharts", i, "valuesInline"), "valuesInline"):
                dotted = ".".join(str(p) for p in path[3:])
                where = f"helmCharts {name} valuesInline.{dotted}"
                hit = literals.judge(key, text, where, strict=True, line=manifest.line(*path))
                if hit is not None:
                    yield self.display, hit

    def _patch_files(self, obj: Mapping[str, Any]) -> Iterator[Located]:
        """JSON 6902 operations in patch files (objects in patch files are checked where the file is read)."""
        for field in ("patches", "patchesJson6902"):
            for entry in _list(obj.get(field)):
                if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
                    continue
                followed = self._follow(entry["path"].strip())
                if followed is None:
                    continue
                display, path = followed
                data = self.read(path)
                if isinstance(data, Hit):
                    continue  # reported where the file itself is read
                json_file = path.name.lower().endswith(".json")
                loaded = loader.load_bytes(data, json_file=json_file)
                where = f"JSON 6902 patch (in {self.display})"
                for content, node in loaded.documents:
                    if isinstance(content, list):
                        for hit in _op_hits(content, node, _target_kind(entry), where):
                            yield display, hit

    def _config_maps(self, manifest: Manifest) -> Iterator[Located]:
        for i, entry in enumerate(_list(manifest.obj.get("configMapGenerator"))):
            if not isinstance(entry, Mapping):
                continue
            name = entry.get("name") if isinstance(entry.get("name"), str) else f"#{i + 1}"
            literal_list = entry.get("literals")
            for j, literal in enumerate(
                _list(literal_list) or ([literal_list] if isinstance(literal_list, str) else [])
            ):
                if not isinstance(literal, str):
                    continue
                key, sep, value = literal.partition("=")
                if not sep:
                    continue
                line = manifest.line("configMapGenerator", i, "literals", j)
                hit = literals.judge(key.strip(), value, f"configMapGenerator {name} literal {key.strip()}",
                                     strict=False, line=line)  # fmt: skip
                if hit is not None:
                    yield self.display, hit
            for field in ("envs", "env"):
                files = entry.get(field)
                for relative in _list(files) or ([files] if isinstance(files, str) else []):
                    if isinstance(relative, str):
                        yield from self._env_file(str(name), relative.strip())
            files = entry.get("files")
            for spec in _list(files) or ([files] if isinstance(files, str) else []):
                if isinstance(spec, str):
                    key, sep, relative = spec.partition("=")
                    relative = (relative if sep else spec).strip()
                    yield from self._data_file(str(name), relative, key.strip() if sep else Path(relative).name)

    def _data_file(self, name: str, relative: str, key: str) -> Iterator[Located]:
        """A `files` entry: the whole file becomes the ConfigMap key (`values.yaml=web-values.txt`), often Helm
        values a HelmRelease reads through `valuesFrom`, which Helm renders (a Secret in its `extraObjects`
        too). Its text is ConfigMap data (SK501/SK502), and a Secret in it is one, as in a ConfigMap's string
        (SK101/SK102); a file the scan reads as YAML or JSON already is checked for those where it is read."""
        followed = self._follow(relative)
        if followed is None:
            return  # kustomize_paths reports what cannot be followed (SK010-SK012)
        display, path = followed
        data = self.read(path)
        if isinstance(data, Hit):
            return  # the file itself is reported where it is scanned
        text = decode(data)
        if isinstance(text, Hit):
            return
        where = f"configMapGenerator {name} (in {self.display}) {key}"
        hit = literals.judge(key, text, where, strict=False)
        if hit is not None:
            yield display, hit
        if not Path(relative).name.lower().endswith(_READ_AS_MANIFESTS):
            for found in embedded.text_hits(text, where):
                yield display, found

    def _env_file(self, name: str, relative: str) -> Iterator[Located]:
        followed = self._follow(relative)
        if followed is None or dotenv.is_env_file(Path(relative).name):
            return  # .env files are checked as such where they are read (SK503, SK502)
        display, path = followed
        data = self.read(path)
        if isinstance(data, Hit):
            return
        text = decode(data)
        if isinstance(text, Hit):
            return
        for entry in dotenv.entries(text):
            where = f"configMapGenerator {name} (in {self.display}) {entry.key}"
            hit = literals.judge(entry.key, entry.value, where, strict=False, line=entry.line)
            if hit is not None:
                yield display, hit
