"""Request bodies in Kubernetes' protobuf encoding, for the kinds kubectl's generators create.

Why: `kubectl create namespace|secret|configmap|serviceaccount` send `application/vnd.kubernetes.protobuf`
for builtin types (client-go's typed clients prefer it), and client-go does not fall back to JSON after
a 415 for protobuf (only for CBOR). So the emulator decodes these few kinds; any other protobuf body
gets 415 as a server without that type's codec would answer.

The wire format: the magic `k8s\\x00`, then a `runtime.Unknown` {typeMeta, raw, contentEncoding,
contentType} whose `raw` is the object's message. Field numbers are those of k8s.io/api
`core/v1/generated.proto` and k8s.io/apimachinery `pkg/apis/meta/v1/generated.proto` (v0.33).
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable, Iterator
from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    """The body is not a protobuf-encoded object this emulator can read."""


# --- the wire format -----------------------------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs: an int for varints, bytes for length-delimited fields."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            yield number, data[pos : pos + length]
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a string field")
    return value.decode("utf-8")


def _raw(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a bytes field")
    return value


def _int(value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise ProtobufError("expected a varint field")
    return value - (1 << 64) if value >= 1 << 63 else value


def _map_entry(value: int | bytes, decode_value: Callable[[int | bytes], Any]) -> tuple[str, Any]:
    key, item = "", decode_value(b"")
    for number, part in fields(_raw(value)):
        if number == 1:
            key = _text(part)
        elif number == 2:
            item = decode_value(part)
    return key, item


# --- messages ------------------------------------------------------------------------------------------------


def _time(value: int | bytes) -> str:
    seconds = 0
    for number, part in fields(_raw(value)):
        if number == 1:
            seconds = _int(part)
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_reference(value: int | bytes) -> dict[str, Any]:
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    ref: dict[str, Any] = {}
    for number, part in fields(_raw(value)):
        if number in names:
            ref[names[number]] = _text(part)
        elif number == 6:
            ref["controller"] = bool(_int(part))
        elif number == 7:
            ref["blockOwnerDeletion"] = bool(_int(part))
    return ref


def object_meta(data: bytes) -> dict[str, Any]:
    strings = {1: "name", 2: "generateName", 3: "namespace", 4: "selfLink", 5: "uid", 6: "resourceVersion"}
    meta: dict[str, Any] = {}
    for number, part in fields(data):
        if number in strings:
            if text := _text(part):
                meta[strings[number]] = text
        elif number == 7 and _int(part):
            meta["generation"] = _int(part)
        elif number in (8, 9) and _raw(part):
            meta["creationTimestamp" if number == 8 else "deletionTimestamp"] = _time(part)
        elif number == 10:
            meta["deletionGracePeriodSeconds"] = _int(part)
        elif number in (11, 12):
            key, item = _map_entry(part, lambda v: _text(v) if v != b"" else "")
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = item
        elif number == 13:
            meta.setdefault("ownerReferences", []).append(_owner_reference(part))
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(part))
    return meta


def _b64(value: int | bytes) -> str:
    return base64.b64encode(_raw(value)).decode()


def _namespace(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, part in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(_raw(part))
        elif number == 2:
            finalizers = [_text(v) for n, v in fields(_raw(part)) if n == 1]
            if finalizers:
                obj["spec"] = {"finalizers": finalizers}
    return obj


def _secret(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, part in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(_raw(part))
        elif number == 2:
            key, item = _map_entry(part, _b64)
            obj.setdefault("data", {})[key] = item
        elif number == 3 and _text(part):
            obj["type"] = _text(part)
        elif number == 4:
            key, item = _map_entry(part, _text)
            obj.setdefault("stringData", {})[key] = item
        elif number == 5:
            obj["immutable"] = bool(_int(part))
    return obj


def _config_map(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, part in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(_raw(part))
        elif number == 2:
            key, item = _map_entry(part, _text)
            obj.setdefault("data", {})[key] = item
        elif number == 3:
            key, item = _map_entry(part, _b64)
            obj.setdefault("binaryData", {})[key] = item
        elif number == 4:
            obj["immutable"] = bool(_int(part))
    return obj


def _service_account(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, part in fields(data):
        if number == 1:
            obj["metadata"] = object_meta(_raw(part))
        elif number == 3:
            name = next((_text(v) for n, v in fields(_raw(part)) if n == 1), "")
            obj.setdefault("imagePullSecrets", []).append({"name": name})
        elif number == 4:
            obj["automountServiceAccountToken"] = bool(_int(part))
    return obj


DECODERS: dict[tuple[str, str], Callable[[bytes], dict[str, Any]]] = {
    ("v1", "Namespace"): _namespace,
    ("v1", "Secret"): _secret,
    ("v1", "ConfigMap"): _config_map,
    ("v1", "ServiceAccount"): _service_account,
}


def _delete_options(data: bytes) -> dict[str, Any]:
    """meta/v1 DeleteOptions (helm's typed clients send it with a DELETE of a builtin, e.g. its release
    Secret): the fields the emulator's delete reads."""
    options: dict[str, Any] = {}
    for number, part in fields(data):
        if number == 1:
            options["gracePeriodSeconds"] = _int(part)
        elif number == 2:
            names = {1: "uid", 2: "resourceVersion"}
            options["preconditions"] = {names[n]: _text(v) for n, v in fields(_raw(part)) if n in names}
        elif number == 3:
            options["orphanDependents"] = bool(_int(part))
        elif number == 4:
            options["propagationPolicy"] = _text(part)
        elif number == 5:
            options.setdefault("dryRun", []).append(_text(part))
    return options


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object; ProtobufError when it is not one this module reads."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf magic number")
    api_version = kind = ""
    raw = b""
    for number, part in fields(body[len(MAGIC) :]):
        if number == 1:
            for inner, value in fields(_raw(part)):
                if inner == 1:
                    api_version = _text(value)
                elif inner == 2:
                    kind = _text(value)
        elif number == 2:
            raw = _raw(part)
    decoder = _delete_options if kind == "DeleteOptions" else DECODERS.get((api_version, kind))  # any version
    if decoder is None:
        raise ProtobufError(f"no protobuf decoding for {kind or 'this object'} in {api_version or 'this version'}")
    return {"apiVersion": api_version, "kind": kind, **decoder(raw)}
