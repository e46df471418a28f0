"""What a kustomization names on disk, looked up as kustomize and Flux look it up: never skipped in silence.

Every path a kustomization names (`resources`, the deprecated `bases`, `components`, patch files,
`secretGenerator`/`configMapGenerator` `files` and `envs`, `crds`, `configurations`, `replacements`,
`transformers`/`generators`/`validators`, `openapi.path`, `helmCharts` `valuesFile`/`additionalValuesFiles`)
is either read by this run or reported at the entry's line in the kustomization:

- SK010 (error): nothing is there, a directory under `resources`/`bases`/`components` holds no
  kustomization file (or more than one), a component is a file, or the file is not committed (inside a
  directory git listed, but not tracked or staged): `kustomize build` or Flux fails on it.
- SK011 (error): the path leaves the repo (`..` past its top, an absolute path, or a symlink leading out):
  Flux builds from the repo alone, and lint does not read outside it.
- SK012 (info): a remote resource (`https://...`, `github.com/...`, `git::...`, `oci://...`), or a local
  path in the repo that this run does not read (outside the paths given): not checked.
- SK013 (error): kustomizations that include each other, or themselves: kustomize refuses the cycle.

Lookups are lexical first (`..` cancels the segment before it, as Go's filepath.Join does in kustomize):
a path the run reads, or a directory holding a kustomization the run reads, needs no system call, so a
clean repo costs nothing more. Only what is not read is looked up on disk (once per entry, never read).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.errors import one_line, os_reason, shown_url
from sealkit.lint import catalog
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit, Rule

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

RESOURCE, COMPONENT, FILE = "resource", "component", "file"  # a file or kustomization directory; a directory; a file
YamlPath = tuple[str | int, ...]
Located = tuple[str, Hit]
Found = tuple[Rule, str]  # (rule, the message after the entry's name): line and name put in when found

_REMOTE_PREFIXES = (
    "git::",
    "git@",
    "github.com/",
    "gitlab.com/",
    "bitbucket.org/",
    "dev.azure.com/",
    "ssh.dev.azure.com/",
)
_MAX_SHOWN = 200
_MAX_RING = 5  # directories of a cycle named in its message


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_remote(entry: str) -> bool:
    """A resource kustomize (or Flux) fetches rather than reads from the repo: a URL, a git or OCI address."""
    return "://" in entry or entry.startswith(_REMOTE_PREFIXES) or "?ref=" in entry or "/_git/" in entry


def _inline(text: str) -> bool:
    """An entry that is the content itself (an inline patch or transformer), not a file name."""
    return "\n" in text.strip() or text.lstrip().startswith(("{", "apiVersion:", "kind:"))


def shown(entry: str) -> str:
    """An entry as a message may show it: a URL's credentials and query hidden, one line, bounded."""
    text = one_line(shown_url(entry))
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


@dataclass(frozen=True)
class Entry:
    """One path a kustomization names: the field it is under, where, the path as written, what it must be."""

    field: str
    where: YamlPath
    value: str
    kind: str
    remote_ok: bool = False  # a file kustomize may also fetch (a Helm values file's URL)


def entries(obj: Mapping[str, Any]) -> Iterator[Entry]:
    """Every local or remote path a kustomization names, with the YAML path of its entry."""
    for name in ("resources", "bases", "components"):
        for i, entry in enumerate(_list(obj.get(name))):
            if isinstance(entry, str) and entry.strip():
                yield Entry(name, (name, i), entry.strip(), COMPONENT if name == "components" else RESOURCE)
    for name in ("transformers", "generators", "validators"):
        for i, entry in enumerate(_list(obj.get(name))):
            if isinstance(entry, str) and entry.strip() and not _inline(entry):
                yield Entry(name, (name, i), entry.strip(), RESOURCE)
    for i, entry in enumerate(_list(obj.get("patchesStrategicMerge"))):
        if isinstance(entry, str) and entry.strip() and not _inline(entry):
            yield Entry("patchesStrategicMerge", ("patchesStrategicMerge", i), entry.strip(), FILE)
    for name in ("patches", "patchesJson6902", "replacements"):
        for i, entry in enumerate(_list(obj.get(name))):
            if isinstance(entry, Mapping) and isinstance(entry.get("path"), str) and entry["path"].strip():
                yield Entry(f"{name} path", (name, i, "path"), entry["path"].strip(), FILE)
    for name in ("crds", "configurations"):
        for i, entry in enumerate(_list(obj.get(name))):
            if isinstance(entry, str) and entry.strip():
                yield Entry(name, (name, i), entry.strip(), FILE)
    openapi = obj.get("openapi")
    if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str) and openapi["path"].strip():
        yield Entry("openapi path", ("openapi", "path"), openapi["path"].strip(), FILE)
    for generator in ("secretGenerator", "configMapGenerator"):
        for i, entry in enumerate(_list(obj.get(generator))):
            if isinstance(entry, Mapping):
                yield from _generator_files(generator, i, entry)
    for name, where, value in values_files(obj):
        yield Entry(f"helmCharts {name}", where, value, FILE, remote_ok=True)


def values_files(obj: Mapping[str, Any]) -> Iterator[tuple[str, YamlPath, str]]:
    """(field, YAML path, path as written) of every Helm values file a kustomization's `helmCharts` name:
    `valuesFile` and `additionalValuesFiles`, merged into the chart's values as `valuesInline` is."""
    for i, chart in enumerate(_list(obj.get("helmCharts"))):
        if not isinstance(chart, Mapping):
            continue
        single = chart.get("valuesFile")
        if isinstance(single, str) and single.strip():
            yield "valuesFile", ("helmCharts", i, "valuesFile"), single.strip()
        for j, extra in enumerate(_list(chart.get("additionalValuesFiles"))):
            if isinstance(extra, str) and extra.strip():
                yield "additionalValuesFiles", ("helmCharts", i, "additionalValuesFiles", j), extra.strip()


def _generator_files(generator: str, i: int, entry: Mapping[str, Any]) -> Iterator[Entry]:
    for name in ("files", "envs", "env"):
        value = entry.get(name)
        listed = [(j, v) for j, v in enumerate(value)] if isinstance(value, list) else [(-1, value)]
        for j, spec in listed:
            if not isinstance(spec, str) or not spec.strip():
                continue
            relative = spec.partition("=")[2] if name == "files" and "=" in spec else spec
            if relative.strip():
                where: YamlPath = (generator, i, name, j) if j >= 0 else (generator, i, name)
                yield Entry(f"{generator} {name}", where, relative.strip(), FILE)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


@dataclass
class Scope:
    """What one run reads, to tell a path it follows from one it cannot: `scanned` and `ignored` (absolute,
    normalised paths: files read, files the config's `ignore:` leaves out on purpose), the directories listed
    (and whether git listed them) and the repo's roots (see discovery.Discovery)."""

    scanned: Collection[str]
    ignored: Collection[str] = ()
    listed: Collection[tuple[str, bool]] = ()
    roots: Collection[str] = ()
    kustomizations: dict[str, list[str]] = field(default_factory=dict)  # directory -> its kustomization files read

    def __post_init__(self) -> None:
        self.roots = sorted({os.path.normpath(r) for r in self.roots})
        self._real_roots: list[str] | None = None

    def add_kustomization(self, key: str) -> None:
        self.kustomizations.setdefault(os.path.dirname(key), []).append(key)  # noqa: PTH120

    def in_repo(self, path: str) -> bool:
        return not self.roots or any(_inside(path, r) for r in self.roots)

    def really_in_repo(self, path: str) -> bool:
        """Whether `path`, symlinks resolved, is still inside a root (symlinks resolved there too)."""
        if self._real_roots is None:
            self._real_roots = [os.path.realpath(r) for r in self.roots]
        real = os.path.realpath(path)
        return not self._real_roots or any(_inside(real, r) for r in self._real_roots)

    def listing(self, path: str) -> tuple[str, bool] | None:
        """The listed directory `path` is under, the innermost one."""
        best: tuple[str, bool] | None = None
        for directory, by_git in self.listed:
            if _inside(path, directory) and (best is None or len(directory) > len(best[0])):
                best = (directory, by_git)
        return best


@dataclass(frozen=True)
class _Edge:
    display: str  # the kustomization file the entry is in, as shown
    line: int
    entry: Entry


class PathCheck:
    """SK010-SK013 for every kustomization of one run: `check` each (findings at its entries' lines), then
    `cycles` once all are checked."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._edges: dict[str, list[tuple[str, _Edge]]] = {}  # kustomization directory -> (directory named, edge)
        self._names: dict[str, str] = {}  # kustomization directory -> its display directory

    def check(self, display: str, key: str, manifest: Manifest) -> Iterator[Hit]:
        """The entries of the kustomization at `key` (absolute, normalised) shown as `display`."""
        directory = os.path.dirname(key)  # noqa: PTH120
        self._names[directory] = os.path.dirname(display) or "."  # noqa: PTH120
        for entry in entries(manifest.obj):
            hit, named = self._entry(directory, entry)
            if hit is None and named is None:
                continue  # the common case: read by this run; its line is not looked up
            line = manifest.line(*entry.where)
            if hit is not None:
                yield Hit(hit[0], line, f"{entry.field} entry {shown(entry.value)}{hit[1]}")
            if named is not None:
                self._edges.setdefault(directory, []).append((named, _Edge(display, line, entry)))

    def _entry(self, directory: str, entry: Entry) -> tuple[Found | None, str | None]:
        """The finding for one entry, if any, and the kustomization directory it names (for cycles)."""
        scope, value = self.scope, entry.value
        if (entry.kind != FILE or entry.remote_ok) and is_remote(value):
            return (catalog.KUSTOMIZE_NOT_FOLLOWED, " is a remote resource: not fetched, not checked"), None
        if os.path.isabs(value):  # noqa: PTH117
            why = " is an absolute path: Flux builds the repo where it checks it out, so it is not there"
            return (catalog.KUSTOMIZE_PATH_OUTSIDE, why), None
        target = os.path.normpath(os.path.join(directory, value))  # noqa: PTH118 - lexical, as kustomize joins
        if target in scope.scanned:
            if entry.kind == COMPONENT:
                return (
                    catalog.KUSTOMIZE_PATH_MISSING,
                    " is a file: a component is a directory holding a kustomization (kind: Component)",
                ), None
            return None, None
        inner = scope.kustomizations.get(target)
        if inner and entry.kind != FILE:
            if len(inner) > 1:
                why = " is a directory holding more than one kustomization file: kustomize refuses it"
                return (catalog.KUSTOMIZE_PATH_MISSING, why), target
            return None, target
        if not scope.in_repo(target):
            return (catalog.KUSTOMIZE_PATH_OUTSIDE, " leaves the repo: not checked, and not in what Flux builds"), None
        return self._on_disk(target, entry)

    def _on_disk(self, target: str, entry: Entry) -> tuple[Found | None, str | None]:
        """An entry the run does not read: what is there, looked up (never read)."""
        scope = self.scope
        try:
            is_dir = os.path.isdir(target) if os.path.lexists(target) else None  # noqa: PTH112
            if is_dir is None:
                return (catalog.KUSTOMIZE_PATH_MISSING, ": nothing is there (kustomize build fails)"), None
            if not scope.really_in_repo(target):
                return (
                    catalog.KUSTOMIZE_PATH_OUTSIDE,
                    " is a symlink leading out of the repo: not checked, and not in what Flux builds",
                ), None
            if not os.path.exists(target):  # noqa: PTH110 - a symlink whose target is gone
                return (catalog.KUSTOMIZE_PATH_MISSING, " is a broken symlink (kustomize build fails)"), None
        except OSError as exc:
            return (catalog.KUSTOMIZE_PATH_MISSING, f" cannot be looked up ({os_reason(exc)})"), None
        named: str | None = None
        if is_dir:
            if entry.kind == FILE:
                return (catalog.KUSTOMIZE_PATH_MISSING, " is a directory, not a file"), None
            found = [n for n in KUSTOMIZATION_NAMES if os.path.isfile(os.path.join(target, n))]  # noqa: PTH113, PTH118
            if not found:
                return (
                    catalog.KUSTOMIZE_PATH_MISSING,
                    " is a directory without a kustomization.yaml: kustomize refuses it",
                ), None
            if len(found) > 1:
                why = " is a directory holding more than one kustomization file: kustomize refuses it"
                return (catalog.KUSTOMIZE_PATH_MISSING, why), None
            named, target = target, os.path.join(target, found[0])  # noqa: PTH118
        elif entry.kind == COMPONENT:
            return (
                catalog.KUSTOMIZE_PATH_MISSING,
                " is a file: a component is a directory holding a kustomization (kind: Component)",
            ), None
        real = os.path.realpath(target)
        if real in scope.scanned or target in scope.ignored or real in scope.ignored:
            return None, named  # read where it really is (a symlink in the repo), or left out by the config
        listing = scope.listing(target)
        if listing is not None and listing[1]:
            return (
                catalog.KUSTOMIZE_PATH_MISSING,
                " is not committed (git does not track it): not in what Flux builds",
            ), named
        return (catalog.KUSTOMIZE_NOT_FOLLOWED, " is not in the paths this run lints: not checked"), named

    def cycles(self) -> Iterator[Located]:
        """SK013 at every entry that closes a cycle of kustomizations (a strongly connected set), and at every entry
        naming its own kustomization's directory or one above it (kustomize: "candidate root contains visited
        root"); found without recursion, so no depth of nesting can stop it."""
        component = _components({d: [n for n, _ in out] for d, out in self._edges.items()})
        rings: dict[int, list[str]] = {}
        for member, ring_id in sorted(component.items()):
            rings.setdefault(ring_id, []).append(self._names.get(member, member))
        for directory in sorted(self._edges):
            for named, edge in self._edges[directory]:
                if _inside(directory, named):  # itself, or a directory above it: kustomize's "contains visited root"
                    where = "this kustomization itself" if named == directory else "a directory holding this one"
                    why = (f"{edge.entry.field} entry {shown(edge.entry.value)} names {where}: a cycle, "
                           "kustomize refuses it")  # fmt: skip
                    yield edge.display, Hit(catalog.KUSTOMIZE_CYCLE, edge.line, why)
                    continue
                number = component.get(directory)
                if number is None or component.get(named) != number:
                    continue
                ring = rings[number]
                members = ", ".join(ring[:_MAX_RING]) + (
                    f" and {len(ring) - _MAX_RING} more" if len(ring) > _MAX_RING else ""
                )
                why = (f"{edge.entry.field} entry {shown(edge.entry.value)} includes this kustomization again "
                       f"(a cycle through {members}): kustomize refuses it")  # fmt: skip
                yield edge.display, Hit(catalog.KUSTOMIZE_CYCLE, edge.line, why)


def _components(graph: Mapping[str, list[str]]) -> dict[str, int]:
    """Tarjan's strongly connected components, iteratively: node -> component number, for components of two or
    more nodes only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: dict[str, int] = {}
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, [])
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    for member in members:
                        out[member] = index[node]
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
