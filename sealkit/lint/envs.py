"""Lint rules for the wrong cluster: is each SealedSecret sealed for the environment whose directory holds it?

Where it sits: the core's lint, fed by the scanner with each SealedSecret and its file's absolute path, and
by the CLI with the spec (found as `sealkit csi` finds it) and, optionally, private keys. An environment
owns its `sealedSecrets` directory and its overlay. Its certificates are what the repo keeps: the
committed `sealingCert.file` (the current one) and the `previous` file (older ones, which `certs pull`
fills as the cluster's key is renewed).

- Provenance (`sealkit.io/certificate-sha256`) names a certificate that is not one of the environment's:
  SK210, naming the environment it was sealed for (its `sealkit.io/environment`, else the environment
  whose certificate it is, else "another cluster") and the one it sits in.
- It names an older certificate of the right environment: SK211 (it opens while the controller keeps the
  old key; re-seal through that cluster with `sealkit reencrypt --env NAME`).
- No provenance: with `--private-key`, the key that opens it says whose certificate it was sealed for;
  without, values whose RSA part does not match any of the environment's key sizes are SK210; anything
  else is SK212 (info): unknown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sealkit import hybrid, provenance
from sealkit.csi.model import Spec
from sealkit.envs.certs import KnownCert, committed
from sealkit.envs.layout import absolute, env_dirs
from sealkit.errors import SealkitError
from sealkit.keys import KeyRing
from sealkit.lint import catalog
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit
from sealkit.manifest import decode_base64
from sealkit.sealedsecret import SealedSecretView, is_sealed_secret, parse_sealed_secret


@dataclass(frozen=True)
class EnvView:
    """One environment as lint sees it: the directories it owns and the certificates the repo keeps."""

    name: str
    dirs: tuple[tuple[str, str], ...]  # (absolute normalised path, as the spec names it)
    current: tuple[KnownCert, ...]
    older: tuple[KnownCert, ...]

    @property
    def known(self) -> tuple[KnownCert, ...]:
        return (*self.current, *self.older)

    def where(self, path: str) -> str:
        """The spec's name for the directory of this environment that holds `path`."""
        best = max((d for d in self.dirs if _inside(path, d[0])), key=lambda d: len(d[0]), default=self.dirs[0])
        return best[1]


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


class EnvironmentIndex:
    """Every environment's directories and certificates, and optional private keys to identify files."""

    def __init__(self, envs: Iterable[EnvView], keys: KeyRing | None = None) -> None:
        self.envs = list(envs)
        self.keys = keys

    @classmethod
    def from_spec(cls, spec: Spec, keys: KeyRing | None = None) -> EnvironmentIndex:
        views = []
        for env in spec.environments.values():
            dirs = tuple((absolute(path), path.relative_to(spec.root).as_posix()) for path in env_dirs(spec, env))
            if not dirs:
                continue
            known = committed(spec, env)
            views.append(EnvView(env.name, dirs, known.current[:1], known.older))
        return cls(views, keys)

    def env_for(self, path: str) -> EnvView | None:
        """The environment owning the deepest directory that holds `path` (an absolute, normalised path)."""
        best: tuple[int, EnvView] | None = None
        for view in self.envs:
            for directory, _ in view.dirs:
                if _inside(path, directory) and (best is None or len(directory) > best[0]):
                    best = (len(directory), view)
        return best[1] if best else None

    def owners(self, sha256: str) -> list[EnvView]:
        return [v for v in self.envs if any(c.sha256 == sha256 for c in v.known)]

    def check(self, manifest: Manifest, path: str, default_namespace: str) -> Iterator[Hit]:
        """SK210-SK212 for one object of the file at `path`."""
        if not is_sealed_secret(manifest.obj):
            return
        env = self.env_for(path)
        if env is None:
            return
        label = f"SealedSecret {default_namespace or manifest.namespace or '-'}/{manifest.name or '(unnamed)'}"
        line = manifest.line("metadata", "annotations", provenance.CERTIFICATE_ANNOTATION)
        try:
            found = provenance.read(manifest.metadata.get("annotations"), label)
        except SealkitError as exc:
            yield Hit(catalog.SEALED_PROVENANCE_UNKNOWN, line, f"{exc} (so it is checked as without provenance)")
            found = None
        if found is not None:
            yield from self._by_provenance(env, found, label, path, line)
            return
        yield from self._without_provenance(env, manifest, label, path, default_namespace)

    def _by_provenance(
        self, env: EnvView, found: provenance.Provenance, label: str, path: str, line: int
    ) -> Iterator[Hit]:
        here = f"environment {env.name}'s directory {env.where(path)}"
        current = {c.sha256 for c in env.current}
        older = {c.sha256 for c in env.older}
        foreign = [c for c in found.certificates if c not in current and c not in older]
        for sha in foreign:
            owners = [v.name for v in self.owners(sha) if v.name != env.name]
            if not env.known and not owners:
                yield Hit(
                    catalog.SEALED_PROVENANCE_UNKNOWN,
                    line,
                    f"{label}: environment {env.name} keeps no committed certificate (sealingCert.file), so whether "
                    f"{provenance.short(sha)} is its certificate cannot be told",
                )
                continue
            sealed_for = found.environment if found.environment and found.environment != env.name else None
            sealed_for = sealed_for or (", ".join(owners) if owners else None)
            what = f"environment {sealed_for}" if sealed_for else "another cluster"
            move = f"{sealed_for}'s directory" if sealed_for else "the environment it was sealed for"
            yield Hit(
                catalog.SEALED_WRONG_CLUSTER,
                line,
                f"{label} was sealed for {what} (certificate {provenance.short(sha)}, not one of environment "
                f"{env.name}'s) but sits in {here}: it will not open there",
                f"Seal it for {env.name} (sealkit seal --env {env.name}), or move it to {move}.",
            )
        if foreign:
            return
        stale = [c for c in found.certificates if c in older]
        if stale:
            yield Hit(
                catalog.SEALED_OLD_CERTIFICATE,
                line,
                f"{label} was sealed with an older certificate of environment {env.name} "
                f"({', '.join(provenance.short(c) for c in stale)}): it opens while the controller keeps that key; "
                "reseal it",
                f"Re-seal through that cluster's controller: sealkit reencrypt --env {env.name}",
            )

    def _view(self, manifest: Manifest, label: str, default_namespace: str) -> SealedSecretView | None:
        try:
            return parse_sealed_secret(manifest.obj, label, default_namespace=default_namespace or None)
        except SealkitError:
            return None  # SK201/SK204 report it

    def _without_provenance(
        self, env: EnvView, manifest: Manifest, label: str, path: str, default_namespace: str
    ) -> Iterator[Hit]:
        here = f"environment {env.name}'s directory {env.where(path)}"
        line = manifest.line("metadata", "name")
        view = self._view(manifest, label, default_namespace)
        if view is None:
            return
        blobs = _blobs(view)
        opened = False
        if self.keys is not None and blobs:
            opened, cert = self._identify(view, blobs[0])
            if cert is not None:
                yield from self._by_provenance(
                    env, provenance.Provenance((cert.sha256,)), f"{label} (no provenance; its key says)", path, line
                )
                return
        sizes = {len(hybrid.split(b)[0]) for b in blobs}  # bytes of the RSA part: the modulus's, rounded up
        bits = {c.key_bits for c in env.known}
        if bits and sizes and not sizes & {hybrid.modulus_bytes(b) for b in bits}:
            sealed_bits = "/".join(str(size * 8) for size in sorted(sizes))
            yield Hit(
                catalog.SEALED_WRONG_CLUSTER,
                line,
                f"{label} was sealed with a {sealed_bits}-bit key, but environment {env.name}'s "
                f"certificates are {'/'.join(map(str, sorted(bits)))}-bit: sealed for another cluster, it sits in "
                f"{here}",
            )
            return
        if opened:
            how = "the key that opens it matches no environment's certificate"
        elif self.keys is not None:
            how = "no --private-key given opens it"
        else:
            how = "lint with --private-key to tell"
        yield Hit(
            catalog.SEALED_PROVENANCE_UNKNOWN,
            line,
            f"{label} has no provenance annotation ({provenance.CERTIFICATE_ANNOTATION}): which cluster it was sealed "
            f"for is unknown ({how})",
        )

    def _identify(self, view: SealedSecretView, blob: bytes) -> tuple[bool, KnownCert | None]:
        """Whether a given private key opens the value, and the known certificate of that key, if any."""
        assert self.keys is not None
        wrapped, _ = hybrid.split(blob)
        label = view.target.label
        for key in self.keys:
            try:
                hybrid.unwrap_session_key(key.key, wrapped, label)
            except hybrid.WrongKeyOrLabel:
                continue
            public = key.public_key
            return True, next((c for env in self.envs for c in env.known if c.same_key(public)), None)
        return False, None


def _blobs(view: SealedSecretView) -> list[bytes]:
    """The well-formed sealed values (malformed ones are SK202's)."""
    values: Mapping[str, str] = view.encrypted_data
    out = []
    for value in [*values.values(), *([view.legacy_data] if view.legacy_data else [])]:
        try:
            blob = decode_base64(value, "value")
            hybrid.split(blob)
        except (SealkitError, hybrid.MalformedValue):
            continue
        out.append(blob)
    return out


def load_index(spec_path: Path, keys: KeyRing | None = None) -> EnvironmentIndex:
    """The index for the spec at `spec_path` (bases are not read)."""
    from sealkit.csi.spec import load_spec

    return EnvironmentIndex.from_spec(load_spec(spec_path, check_bases=False), keys)
