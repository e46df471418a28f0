"""Sealing steps `sealkit seal` and `sealkit kubeseal` share: one raw value, merging into a sealed file.

Where it sits: the CLI, between the option parsing of those two commands and the core (`sealkit.sealing`,
`sealkit.yamledit`). The commands differ in defaults (YAML or JSON first) and namespace rules, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sealkit.certificates import SealingCertificate
from sealkit.documents import Document, load_documents
from sealkit.envs.sealplan import merge_into_text
from sealkit.errors import InputError
from sealkit.reading import decode_text, read_file
from sealkit.sealedsecret import is_sealed_secret
from sealkit.sealing import Target, describe_kind, seal_value, secret_items
from sealkit.validation import type_name
from sealkit_cli import io


def parse_from_file(value: str) -> tuple[str | None, str]:
    """kubectl's --from-file value `[key=]path` as kubeseal splits it (at the first '='): (key, path)."""
    key, sep, path = value.partition("=")
    return (key, path) if sep else (None, value)


def raw_value(from_files: tuple[str, ...]) -> tuple[bytes, str]:
    """The one value `--raw` seals: from the single --from-file (only its path is used), else stdin."""
    if len(from_files) > 1:
        raise InputError(f"give exactly one file with --raw (got {len(from_files)})", where="--from-file")
    if not from_files:
        value, where = io.read_input("-")
        if not value:  # a command before the pipe that failed, not a value: an empty one comes from a file
            raise InputError("nothing on stdin to seal (an empty value: --from-file /dev/null)", where=where)
        return value, where
    _, path = parse_from_file(from_files[0])
    if not path:
        raise InputError("no file name after '='", where=f"--from-file {from_files[0]!r}")
    return io.read_input(path)


def seal_raw(cert: SealingCertificate, from_files: tuple[str, ...], target: Target) -> str:
    value, _ = raw_value(from_files)
    return seal_value(cert, value, target)


def _secret(doc: Document) -> dict[str, Any]:
    """A document that is a v1 Secret (checked as `seal` checks it), for --merge-into."""
    obj = doc.obj
    if not isinstance(obj, dict):
        raise InputError(f"a {type_name(obj)} is not a Kubernetes object", where=doc.where)
    if obj.get("kind") != "Secret" or obj.get("apiVersion") not in ("v1", None):
        raise InputError(f"a {describe_kind(obj)} is not a v1 Secret", where=doc.where)
    return obj


def merge_into(path: str, input_path: str, cert: SealingCertificate, *, stamp: bool) -> None:
    """Add or replace items of the one SealedSecret in `path`, sealed for its name, namespace and scope.

    Only the item lines (and a provenance annotation) change: the file keeps its format (YAML or JSON),
    layout, comments and mode. Provenance stays true: a file that has it gets the new certificate listed;
    one without gets it only with `stamp` (`sealkit seal`; `sealkit kubeseal` adds nothing kubeseal would
    not) and only when every item was sealed again.
    """
    if not Path(path).exists():
        raise InputError("no such file (--merge-into needs an existing SealedSecret file)", where=path)
    text = decode_text(read_file(path), path)
    sealed_docs = [d for d in load_documents(text, path) if is_sealed_secret(d.obj)]
    if len(sealed_docs) != 1:
        found = len(sealed_docs)
        raise InputError(f"--merge-into needs exactly one SealedSecret in the file, found {found}", where=path)
    data, source = io.read_input(input_path)
    secrets = load_documents(data, source)
    if len(secrets) != 1:
        raise InputError(f"--merge-into takes one Secret, the input has {len(secrets)}", where=source)
    items = secret_items(_secret(secrets[0]), secrets[0].where)
    if not items:
        raise InputError("the Secret has no data or stringData to merge", where=secrets[0].where)
    merged = merge_into_text(text, Path(path), items, cert, None, add_provenance=stamp)
    io.write_output(merged, path, mode=Path(path).stat().st_mode & 0o777, in_place=True)
