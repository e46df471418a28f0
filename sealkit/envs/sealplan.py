"""`seal --env` and `set` as file changes planned in memory: nothing is written here.

Where it sits: the core, between the CLI (which reads the plaintext once, loads the certificates and
writes the planned changes all or nothing with `sealkit.filewrites`) and the sealing primitives. Per
environment and Secret: a new file is the SealedSecret in block YAML with its provenance; an existing one
gets its items added or replaced in place as `--merge-into` does (sealed for the file's own name,
namespace and scope; comments, order and layout kept) and its provenance updated; a directory holding a
`kustomization.yaml` gets each new file added to its `resources`. Plaintext lives only in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit import provenance
from sealkit.certificates import SealingCertificate
from sealkit.csi.model import Environment, Spec
from sealkit.csi.yamlio import dump_document, flow_scalar
from sealkit.documents import Document, load_documents
from sealkit.envs.layout import SUFFIX, file_name, sealed_dir
from sealkit.errors import InputError, os_reason
from sealkit.files import refuse_link_out_of_repo
from sealkit.filewrites import FileChange, current_bytes
from sealkit.kustomizeedit import KUSTOMIZATION_NAMES, add_resources
from sealkit.manifest import metadata_of, string_map
from sealkit.reading import compose_documents
from sealkit.scope import Scope, scope_from_annotations, scope_value_problem
from sealkit.sealedsecret import SealedSecretView, is_sealed_secret, parse_sealed_secret
from sealkit.sealing import Target, check_name_flags, resolve_target, seal_secret, seal_value, secret_items
from sealkit.validation import (
    immutable_problems,
    metadata_problems,
    raise_first,
    secret_data_problems,
    type_problems,
)
from sealkit.yamledit import (
    SealedDocument,
    check_edit,
    expect_edit,
    merge_values,
    sealed_document,
    set_annotations,
    swaps_values_only,
)


@dataclass
class PreparedSecret:
    """One input Secret with its final name, namespace and scope, checked once for every environment."""

    obj: Mapping[str, Any]
    where: str
    name: str
    namespace: str
    scope: Scope
    items: dict[str, bytes] = field(repr=False)
    skeleton: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    rendered: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def file(self) -> str:
        return file_name(self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


def prepare(
    documents: list[Document],
    *,
    scope: Scope | None = None,
    name: str | None = None,
    namespace: str | None = None,
    allow_empty_data: bool = False,
) -> list[PreparedSecret]:
    """Every input document as a Secret to seal; refuses (one line) what would clash or not open."""
    if not documents:
        raise InputError("no Secret in the input")
    if name and len(documents) > 1:
        raise InputError(f"--name applies to one Secret, the input has {len(documents)}: --name")
    out: list[PreparedSecret] = []
    by_file: dict[str, PreparedSecret] = {}
    for doc in documents:
        obj = doc.obj
        if not isinstance(obj, Mapping) or obj.get("kind") != "Secret" or obj.get("apiVersion") not in ("v1", None):
            raise InputError(f"not a v1 Secret: {doc.where}")
        meta = metadata_of(obj, doc.where)
        # What the messages below quote, and what goes into the files in clear, checked first.
        check_name_flags(name, namespace)
        raise_first(
            metadata_problems({k: v for k, v in meta.items() if not (k == "namespace" and v == "")})  # "": none
            + type_problems(obj.get("type"))
            + immutable_problems(obj.get("immutable")),
            doc.where,
        )
        final_name = name or meta.get("name")
        if not isinstance(final_name, str) or not final_name:
            raise InputError(f"the Secret has no metadata.name (give --name): {doc.where}")
        own = meta.get("namespace")
        if own and namespace and own != namespace:
            raise InputError(f"the Secret's namespace {own!r} differs from --namespace {namespace!r}: {doc.where}")
        final_namespace = own or namespace
        if not isinstance(final_namespace, str) or not final_namespace:
            raise InputError(
                "the Secret has no namespace (set metadata.namespace or give -n; an environment's file is named "
                f"<namespace>.<name>{SUFFIX}): {doc.where}"
            )
        unread = scope_value_problem(meta.get("annotations"))
        if unread:
            raise InputError(f"{unread}: {doc.where}")
        final_scope = scope or scope_from_annotations(string_map(meta.get("annotations"), doc.where, "annotations"))
        resolve_target(final_scope, final_name, final_namespace, doc.where)
        items = secret_items(obj, doc.where)
        if not items and not allow_empty_data:
            raise InputError(f"the Secret has no data or stringData (pass --allow-empty-data): {doc.where}")
        annotations = string_map(meta.get("annotations"), doc.where, "annotations")
        raise_first(secret_data_problems(items, obj.get("type"), annotations), doc.where)
        prepared = PreparedSecret(obj, doc.where, final_name, final_namespace, final_scope, items)
        first = by_file.setdefault(prepared.file, prepared)
        if first is not prepared:
            raise InputError(
                f"two Secrets would be written to the same file {prepared.file} ({first.where} and {doc.where})"
            )
        out.append(prepared)
    return out


@dataclass(frozen=True)
class Written:
    """One line of the report: what a run did (or would do) to a file."""

    env: str
    path: Path
    action: str  # "new", "updated", "unchanged", "listed"


@dataclass
class Plan:
    changes: list[FileChange] = field(default_factory=list)
    report: list[Written] = field(default_factory=list)


def _read(path: Path, root: Path) -> str | None:
    """The text of an existing file about to be updated, or None when there is none. Refused, naming it: a
    symbolic link leading out of the repo `root` (resolved; what sealkit wrote there would not be committed,
    and kustomize refuses such a file), what `filewrites.current_bytes` refuses (not a regular file, a link to
    nothing, over the input size limit), bytes that are not UTF-8 text."""
    refuse_link_out_of_repo(path, root, directory_checked=True)  # layout.py resolved the directory
    data = current_bytes(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a SealedSecret file", where=path) from None


@dataclass(frozen=True)
class _Existing:
    """An existing file's one SealedSecret, and every document of the file as read (to check the edit)."""

    doc: Document
    view: SealedSecretView
    located: SealedDocument | None
    objects: list[Any]


def _the_sealed_secret(text: str, path: Path) -> _Existing:
    """The file's one SealedSecret, read through the bounded reader; with its values' spans when the text
    was parsed once for them (`compose_documents`; else `merge_values` composes it)."""
    composed = compose_documents(text, str(path))
    documents = load_documents(text, str(path)) if composed is None else [doc for doc, _ in composed]
    sealed = [d for d in documents if is_sealed_secret(d.obj)]
    if len(sealed) != 1:
        raise InputError(f"the file must hold exactly one SealedSecret, it holds {len(sealed)}: {path}")
    doc = sealed[0]
    located = None if composed is None else sealed_document(composed[doc.index - 1][1], doc.index)
    objects = [d.obj for d in documents]
    return _Existing(doc, parse_sealed_secret(doc.obj, doc.where), located, objects)


def _reprovenance(
    doc: Document, new: provenance.Provenance, every_item: bool, path: Path, add: bool = True
) -> dict[str, str]:
    """The provenance annotations to set on `doc` after sealing with `new` ({}: none to change)."""
    annotations = (doc.obj.get("metadata") or {}).get("annotations")
    before = provenance.read(annotations, str(path))
    if before is None and not add:
        return {}
    after = provenance.after_update(before, new, every_item=every_item, where=str(path))
    if after is None or after == before:
        return {}
    wanted = after.annotations()
    current = {k: v for k, v in (annotations or {}).items() if k in wanted}
    return {} if current == wanted else wanted


def merge_into_text(
    text: str,
    path: Path,
    items: Mapping[str, bytes],
    cert: SealingCertificate,
    environment: str | None,
    expect: tuple[str, str, Scope] | None = None,
    *,
    add_provenance: bool = True,
) -> str:
    """Add or replace `items` in the one SealedSecret of `text`, sealed for its own target; provenance updated.

    `expect` (namespace, name, scope) refuses a file holding another object, or the same one in another
    scope: its items would not open together.
    """
    existing = _the_sealed_secret(text, path)
    doc, view = existing.doc, existing.view
    if view.legacy_data:
        raise InputError(f"the SealedSecret uses deprecated spec.data; seal it again as a whole: {path}")
    if expect is not None:
        namespace, name, scope = expect
        if (view.namespace, view.name) != (namespace, name):
            raise InputError(
                f"the file holds SealedSecret {view.namespace}/{view.name}, not {namespace}/{name}: {path}"
            )
        if view.scope is not scope:
            raise InputError(
                f"the file is sealed {view.scope.value}, the Secret {scope.value} (delete the file to change the "
                f"scope, or pass --scope {view.scope.value}): {path}"
            )
    sealed = {key: seal_value(cert, value, view.target) for key, value in items.items()}
    merged = merge_values(text, doc.index, sealed, str(path), existing.located, check=False)
    every_item = set(view.encrypted_data) <= set(items)
    stamp = provenance.of_certificate(cert, environment)
    wanted = _reprovenance(doc, stamp, every_item, path, add_provenance)
    if wanted:
        merged = set_annotations(merged, doc.index, wanted, str(path), check=False)
    elif existing.located is not None and swaps_values_only(text, existing.located, sealed):
        return merged  # reads back as intended by construction (a re-seal in place: no second parse)
    # What is written must read back as the file with exactly these items and annotations changed.
    expected = expect_edit(existing.objects, doc.index, sealed, wanted)
    return check_edit(expected, merged, str(path), doc.index)


def _skeleton(secret: PreparedSecret, cert: SealingCertificate) -> dict[str, Any]:
    """The SealedSecret for `secret` without its values (the same for every environment), made once."""
    if secret.skeleton is None:
        # No items: seal_secret checks and builds metadata, scope and template, and encrypts nothing.
        empty = {key: value for key, value in secret.obj.items() if key not in ("data", "stringData")}
        secret.skeleton = seal_secret(
            empty,
            cert,
            scope=secret.scope,
            name=secret.name,
            namespace=secret.namespace,
            allow_empty_data=True,
            where=secret.where,
            check_data=False,  # prepare() checked the full data
        )
    return dict(secret.skeleton)


_BASE64_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9+/]*={0,2}")  # sealed values start with "A": plain YAML


def render_new(
    secret: PreparedSecret, cert: SealingCertificate, stamp: provenance.Provenance, encrypted: Mapping[str, str]
) -> str:
    """The new file's text: `dump_document` of the stamped SealedSecret, with what is the same for every
    environment (the head and the template) rendered once per Secret and the values written directly."""
    if secret.rendered is None:
        skeleton = _skeleton(secret, cert)
        head = dump_document({"apiVersion": skeleton["apiVersion"], "kind": skeleton["kind"]})
        spec = dump_document({"spec": {"template": skeleton["spec"]["template"]}})
        secret.rendered = (head, spec.split("\n", 1)[1])
    head, template = secret.rendered
    meta = dict(_skeleton(secret, cert)["metadata"])
    meta["annotations"] = {**(meta.get("annotations") or {}), **stamp.annotations()}
    lines = [
        f"    {flow_scalar(key)}: {value if _BASE64_PLAIN.fullmatch(value) else flow_scalar(value)}\n"
        for key, value in encrypted.items()
    ]
    values = "spec:\n  encryptedData:\n" + "".join(lines) if lines else "spec:\n  encryptedData: {}\n"
    return head + dump_document({"metadata": meta}) + values + template


def _kustomization(directory: Path) -> Path | None:
    """The directory's kustomization file, if it has one; one that cannot be looked up is an error naming it
    (taken for absent, the new files would go unlisted), and so are two of them (kustomize refuses the
    directory: listed in one, the new files could be listed in the one it would not read)."""
    found = []
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        try:
            if candidate.is_file():
                found.append(candidate)
        except OSError as exc:
            raise InputError(f"cannot read ({os_reason(exc)}): {candidate}") from None
    if len(found) > 1:
        names = " and ".join(path.name for path in found)
        raise InputError(
            f"the directory has {len(found)} kustomization files ({names}; kustomize refuses it): {directory}"
        )
    return found[0] if found else None


@dataclass(frozen=True)
class EnvFiles:
    """What planning one environment's files needs, read once: its directory, the names already in it, the
    certificate and the provenance stamp."""

    env: str
    directory: Path
    present: frozenset[str]
    cert: SealingCertificate
    stamp: provenance.Provenance
    root: Path  # the repo (the spec's directory), resolved: no file is read or written through a link out of it


def env_files(spec: Spec, env: Environment, cert: SealingCertificate) -> EnvFiles:
    directory = sealed_dir(spec, env)
    try:
        present = frozenset(os.listdir(directory))  # noqa: PTH208 - names only, one call per directory
    except FileNotFoundError:
        present = frozenset()
    except OSError as exc:  # a file above it, or no permission: nothing can be planned or written there
        why = os_reason(exc)
        raise InputError(
            f"environment {env.name}'s sealedSecrets cannot be read ({why})", where=str(env.sealed_secrets)
        ) from None
    stamp = provenance.of_certificate(cert, env.name)
    return EnvFiles(env.name, directory, present, cert, stamp, spec.root.resolve())


@dataclass(frozen=True)
class FilePlan:
    """One Secret's file in one environment: its change and its report line."""

    change: FileChange
    written: Written

    @property
    def new(self) -> bool:
        return self.change.old is None


def plan_file(files: EnvFiles, secret: PreparedSecret) -> FilePlan:
    """One Secret's file for one environment: a new file rendered, or the existing one merged."""
    path = files.directory / secret.file
    old = _read(path, files.root) if secret.file in files.present else None
    if old is None:
        target = Target(secret.scope, secret.namespace, secret.name)
        encrypted = {key: seal_value(files.cert, secret.items[key], target) for key in sorted(secret.items)}
        text = render_new(secret, files.cert, files.stamp, encrypted)
        return FilePlan(FileChange(path, text, None), Written(files.env, path, "new"))
    expect = (secret.namespace, secret.name, secret.scope)
    text = merge_into_text(old, path, secret.items, files.cert, files.env, expect)
    return FilePlan(FileChange(path, text, old), Written(files.env, path, "updated" if text != old else "unchanged"))


def finish_plan(files: EnvFiles, file_plans: Iterable[FilePlan]) -> Plan:
    """One environment's plan from its files' plans, with each new file listed in the directory's
    kustomization (when it has one)."""
    plan = Plan()
    new_files: list[str] = []
    for file_plan in file_plans:
        plan.changes.append(file_plan.change)
        plan.report.append(file_plan.written)
        if file_plan.new:
            new_files.append(file_plan.change.path.name)
    kustomization = _kustomization(files.directory) if new_files else None
    if kustomization is not None:
        old = _read(kustomization, files.root)
        assert old is not None
        text = add_resources(old, new_files, str(kustomization))
        if text != old:
            plan.changes.append(FileChange(kustomization, text, old))
            plan.report.append(Written(files.env, kustomization, "listed"))
    return plan


def plan_set(
    spec: Spec,
    env: Environment,
    cert: SealingCertificate,
    namespace: str,
    name: str,
    key: str,
    value: bytes,
) -> Plan:
    """One item added to or replaced in the environment's existing file for namespace/name."""
    path = sealed_dir(spec, env) / file_name(namespace, name)
    old = _read(path, spec.root.resolve())
    if old is None:
        raise InputError(
            f"environment {env.name} has no SealedSecret {namespace}/{name} to change (seal it first with "
            f"`sealkit seal --env {env.name}`): {path}"
        )
    view = _the_sealed_secret(old, path).view
    if (view.namespace, view.name) != (namespace, name):
        raise InputError(f"the file holds SealedSecret {view.namespace}/{view.name}, not {namespace}/{name}: {path}")
    text = merge_into_text(old, path, {key: value}, cert, env.name)
    return Plan([FileChange(path, text, old)], [Written(env.name, path, "updated")])
