"""kustomize `secretGenerator`: a Secret built from plaintext the repo commits.

`literals` (`key=value`) sit in the kustomization itself; `envs` (and the older `env`) name
`.env`-style files, `files` name files whose whole content becomes a key (`[key=]path`). Each
literal with a value, each env-file assignment and each non-empty file is plaintext that ends up
in a Secret: SK105, reported where the plaintext is (the kustomization's line, or the followed
file and its line). Files are followed only inside the repo: a path that leaves the directory
tree being linted, or that the scan does not include (git-ignored, say), is not read here
(kustomize_paths reports it: SK010-SK012). SOPS-encrypted files (KSOPS) and placeholders (`${VAR}` filled
in by Flux) are not plaintext.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sealkit.lint import catalog, dotenv
from sealkit.lint.literals import is_reference
from sealkit.lint.loader import Manifest, decode
from sealkit.lint.model import Hit

Reader = Callable[[Path], bytes | Hit]
Located = tuple[str, Hit]  # (display path of the file the hit is in, hit)

_SOPS_MARKERS = ("ENC[AES256_GCM,", "sops_mac=", '"sops":', "\nsops:")


def _entries(obj: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    generators = obj.get("secretGenerator")
    if isinstance(generators, list):
        for i, entry in enumerate(generators):
            if isinstance(entry, Mapping):
                yield i, entry


def _strings(value: Any) -> list[tuple[int, str]]:
    if isinstance(value, str):
        return [(-1, value)]
    if isinstance(value, list):
        return [(j, v) for j, v in enumerate(value) if isinstance(v, str)]
    return []


def _is_sops(text: str) -> bool:
    return any(marker in text for marker in _SOPS_MARKERS)


class KustomizationFiles:
    """The files one kustomization names, as a check follows them: only those in `scanned` (absolute,
    normalised paths, what the run reads), each with its display path beside the kustomization's."""

    def __init__(self, display: str, path: Path, scanned: set[str], read: Reader) -> None:
        self.display, self.directory = display, os.path.dirname(os.path.abspath(path))  # noqa: PTH100, PTH120
        self.display_dir = os.path.dirname(display)  # noqa: PTH120
        self.scanned, self.read = scanned, read

    def _follow(self, relative: str) -> tuple[str, Path] | None:
        target = os.path.normpath(os.path.join(self.directory, relative))  # noqa: PTH118
        if Path(relative).is_absolute() or target not in self.scanned:
            return None
        return os.path.normpath(os.path.join(self.display_dir, relative)), Path(target)  # noqa: PTH118


class GeneratorCheck(KustomizationFiles):
    """SK105 for one kustomization; `scanned` (absolute, normalised paths) bounds what is followed."""

    def run(self, manifest: Manifest) -> Iterator[Located]:
        for i, entry in _entries(manifest.obj):
            name = entry.get("name") if isinstance(entry.get("name"), str) else f"#{i + 1}"
            base = ("secretGenerator", i)
            for j, literal in _strings(entry.get("literals")):
                key, sep, value = literal.partition("=")
                if sep and value.strip() and not is_reference(value):
                    line = manifest.line(*base, "literals", j) if j >= 0 else manifest.line(*base, "literals")
                    yield self.display, Hit(catalog.GENERATOR_PLAINTEXT, line, f"secretGenerator {name}: literal "
                                            f"{key.strip()} is a plaintext Secret value")  # fmt: skip
            for field in ("envs", "env"):
                for _, relative in _strings(entry.get(field)):
                    yield from self._env_file(str(name), relative)
            for _, spec in _strings(entry.get("files")):
                key, sep, relative = spec.partition("=")
                yield from self._file(str(name), (relative if sep else spec).strip(), key.strip() if sep else None)

    def _env_file(self, name: str, relative: str) -> Iterator[Located]:
        followed = self._follow(relative.strip())
        if followed is None:
            return
        display, path = followed
        data = self.read(path)
        if isinstance(data, Hit):
            return  # the file itself is reported where it is scanned
        text = decode(data)
        if isinstance(text, Hit) or _is_sops(text):
            return
        for entry in dotenv.entries(text):
            if entry.value.strip() and not is_reference(entry.value):
                yield display, Hit(catalog.GENERATOR_PLAINTEXT, entry.line, f"secretGenerator {name} (in "
                                   f"{self.display}) puts {entry.key} into a Secret in plain text")  # fmt: skip

    def _file(self, name: str, relative: str, key: str | None) -> Iterator[Located]:
        followed = self._follow(relative)
        if followed is None:
            return
        display, path = followed
        data = self.read(path)
        if isinstance(data, Hit) or not data.strip():
            return
        text = decode(data)
        if not isinstance(text, Hit) and _is_sops(text):
            return
        secret_key = key or os.path.basename(relative)  # noqa: PTH119
        yield display, Hit(catalog.GENERATOR_PLAINTEXT, 1, f"secretGenerator {name} (in {self.display}) puts this "
                           f"file into a Secret as {secret_key} in plain text")  # fmt: skip
