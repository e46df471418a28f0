"""Writing Kubernetes manifests (YAML streams, concatenated JSON); reading is `sealkit.reading`'s.

`Document` and `load_documents` are re-exported from `sealkit.reading`, the one bounded reader for
untrusted input: parse errors name the file, document and line but never quote the offending text
(a manifest may hold plaintext secret values).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from sealkit.errors import InputError
from sealkit.reading import Document, load_documents, read_documents

__all__ = ["Document", "SafeDumper", "dump", "dump_json", "dump_yaml", "load_documents", "read_documents"]

SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(objects: Iterable[Any]) -> str:
    """Objects as a YAML stream, keys in the order built, documents separated by `---`."""
    return yaml.dump_all(
        list(objects), Dumper=SafeDumper, sort_keys=False, default_flow_style=False, explicit_start=True, width=1 << 16
    )


def dump_json(objects: Iterable[Any]) -> str:
    """Objects as indented JSON, concatenated when there are several (as kubeseal prints them)."""
    import json

    return "".join(json.dumps(obj, indent=2, ensure_ascii=False) + "\n" for obj in objects)


def dump(objects: Iterable[Any], fmt: str) -> str:
    if fmt == "json":
        return dump_json(objects)
    if fmt == "yaml":
        return dump_yaml(objects)
    raise InputError("unknown output format (choose yaml or json)", where="-o/--format")
