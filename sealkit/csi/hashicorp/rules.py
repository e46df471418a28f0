"""What the HashiCorp Vault CSI provider rejects or silently misreads in a SecretProviderClass.

Each rule names its source: the provider (hashicorp/vault-csi-provider v1.7.4) reads its parameters in
`internal/config/config.go` (`parseParameters`: every key case-sensitive, unknown keys ignored;
`vaultSkipTLSVerify` through Go's `strconv.ParseBool`; `objects` unmarshalled with gopkg.in/yaml.v3
into `[]Secret`; `validate`: `roleName` required, at least one object, unique `objectName`s), fetches in
`internal/provider/provider.go` (no `secretKey` = the whole JSON response; `encoding` utf-8/base64/hex;
one cached response per (`secretPath`, `method`)) and `internal/client/client.go` (`secretArgs` sent as a
JSON body; `?query` in `secretPath` becomes query parameters). Vault itself reads a request body only for
POST/PUT (`http/logical.go`), and KV v2 serves secrets under `<mount>/data/<path>` (Vault KV v2 API docs).
The driver refuses file paths that are empty, absolute, not clean or contain `..`
(secrets-store-csi-driver v1.6.0 `pkg/util/fileutil`). The value checks are also the spec loader's
predicates (`sealkit.csi.hashicorp.spec`), so a spec that loads renders classes these rules accept.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from sealkit.csi.rules import IGNORED, INSECURE, INVALID, Problem, case_trap, shown
from sealkit.errors import shown_url

PROVIDER = "vault"
DEFAULT_METHOD = "GET"
METHODS = ("GET", "PUT", "POST")  # reads: GET; PUT/POST for engines that issue (pki/issue, ...)
ENCODINGS = ("utf-8", "base64", "hex")  # compared case-insensitively by the provider
KV_VERSIONS = (1, 2)

# parseParameters reads exactly these keys; any other key is ignored.
KNOWN_PARAMETERS = (
    "roleName",
    "vaultAddress",
    "vaultNamespace",
    "vaultKubernetesMountPath",
    "vaultAuthMountPath",
    "audience",
    "vaultCACertPath",
    "vaultCADirectory",
    "vaultTLSServerName",
    "vaultTLSClientCertPath",
    "vaultTLSClientKeyPath",
    "vaultSkipTLSVerify",
    "objects",
)
# Read by versions before 0.1.0 and ignored since (CHANGELOG 0.1.0).
RETIRED_PARAMETERS = {
    "kubernetesServiceAccountPath": "the provider logs in as the pod's own service account",
    "vaultCAPem": "put the CA in a file the provider mounts and name it in vaultCACertPath",
}
# The yaml tags of the provider's `Secret` struct.
KNOWN_OBJECT_KEYS = ("objectName", "secretPath", "secretKey", "method", "secretArgs", "filePermission", "encoding")
RETIRED_OBJECT_KEYS = {
    "objectPath": "renamed secretPath in provider 0.1.0",
    "objectVersion": "ignored since provider 0.1.0; pin a KV v2 version with ?version=N in secretPath",
    "objectType": "an Azure provider key; the Vault provider ignores it",
    "objectAlias": "an Azure provider key; the Vault provider names the file objectName",
}
PARSE_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
              "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}  # fmt: skip

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL_TAG = "tag:yaml.org,2002:null"
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_ROLE_NAME = re.compile(r"\w(?:[\w.-]*\w)?")  # Vault's framework.GenericNameRegex
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)")
MAX_PATH = 4096  # the driver's maxPathLength
MAX_FILE_NAME = 255  # the driver's maxFileNameLength


# --- predicates: a message, or None when the value is fine (shared with the spec loader) -----------


def address_problem(value: object) -> str | None:
    """vaultAddress: an http(s) URL of the Vault server itself (no path: the provider adds /v1/...). The
    message shows it without credentials or query (`shown_url`)."""
    if not isinstance(value, str) or not value:
        return f"vaultAddress {shown(value)} must be an http(s) URL such as https://vault.example.com:8200"
    address = shown_url(value)
    try:
        parsed = urllib.parse.urlsplit(value)
    except ValueError:
        return f"vaultAddress {shown(address)} must be an http(s) URL such as https://vault.example.com:8200"
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return f"vaultAddress {shown(address)} must be an http(s) URL such as https://vault.example.com:8200"
    try:
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"vaultAddress {shown(address)} has an invalid port"
    if parsed.username or parsed.password:
        return f"vaultAddress {shown(address)} must not carry credentials"
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        return f"vaultAddress {shown(address)} must be the server's root URL, without a path or query"
    return None


def mount_path_problem(value: object, what: str) -> str | None:
    """An auth or secrets-engine mount path: segments of letters, digits, '.', '_' and '-', no slashes
    at either end (the provider requests /v1/auth/<path>/login as written)."""
    if not isinstance(value, str) or not value:
        return f"{what} {shown(value)} must be a mount path such as kubernetes or team-a/kv"
    parts = value.split("/")
    if not all(_SEGMENT.fullmatch(p) and p not in (".", "..") for p in parts):
        return f"{what} {shown(value)} must be segments of letters, digits, '.', '_' and '-' joined by '/'"
    return None


def role_name_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _ROLE_NAME.fullmatch(value):
        return f"roleName {shown(value)} must be a Vault role name (letters, digits, '_', '-', '.')"
    return None


def namespace_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _NAMESPACE.fullmatch(value):
        return f"vaultNamespace {shown(value)} must be a Vault namespace path such as team-a or team-a/prod"
    return None


def file_name_problem(value: object) -> str | None:
    """objectName is the file's path in the volume: the driver's rules for payload paths."""
    if not isinstance(value, str) or not value:
        return "objectName is required: it is the file's name in the volume"
    if value.startswith("/"):
        return f"objectName {shown(value)} must be a relative file name, not absolute"
    parts = value.split("/")
    if ".." in parts or value.startswith(".."):
        return f"objectName {shown(value)} must not contain '..'"
    if posixpath.normpath(value) != value:
        return f"objectName {shown(value)} is not a clean path (the driver refuses './', '//' and a trailing '/')"
    if len(value) > MAX_PATH or any(len(p) > MAX_FILE_NAME for p in parts):
        return f"objectName {shown(value[:40])}... is too long (4096 characters, 255 per file name)"
    return None


def kv_path_problem(path: object, kv: object) -> str | None:
    """A secret's path inside a KV mount, written as `vault kv get` takes it: never with `data/`."""
    if not isinstance(path, str) or not path:
        return "path is required: the secret's path inside the mount (e.g. orders/db)"
    if path.startswith("/") or path.endswith("/") or "//" in path or "?" in path:
        return f"path {shown(path)} must be relative, without '//', a trailing '/' or a query"
    if ".." in path.split("/"):
        return f"path {shown(path)} must not contain '..'"
    if kv == 2 and path.split("/")[0] in ("data", "metadata"):
        return (
            f"path {shown(path)} starts with {path.split('/')[0]}/: for KV v2 the generator adds data/ itself "
            "(write the path as `vault kv get` takes it, e.g. orders/db)"
        )
    return None


def kv_mount_problem(mount: object, kv: object) -> str | None:
    problem = mount_path_problem(mount, "mount")
    if problem:
        return problem
    if kv == 2 and isinstance(mount, str) and mount.split("/")[-1] in ("data", "metadata"):
        return f"mount {shown(mount)} ends with /{mount.split('/')[-1]}: name the KV v2 mount itself; data/ is added"
    return None


def kv_version_problem(value: object) -> str | None:
    if isinstance(value, bool) or value not in KV_VERSIONS:
        return f"kv {shown(value)} must be 1 or 2 (the KV secrets engine version of the mount)"
    return None


def method_problem(value: object) -> str | None:
    if value not in METHODS:
        return (
            f"method {shown(value)} must be GET, PUT or POST in upper case (Vault answers other spellings with 405; "
            "DELETE or LIST would not read a secret)"
        )
    return None


def encoding_problem(value: object) -> str | None:
    if not isinstance(value, str) or value.lower() not in ENCODINGS:
        return f"encoding {shown(value)} must be utf-8, base64 or hex: the provider refuses the mount"
    return None


def secret_path_problem(value: object) -> str | None:
    """secretPath as the provider takes it (a leading /v1/ is optional; `?query` becomes parameters)."""
    if not isinstance(value, str) or not value.strip("/"):
        return "secretPath is required: the path the provider reads (e.g. secret/data/orders/db)"
    return None


def kv2_path_hint(secret_path: str) -> str | None:
    """A warning for hand-written classes: paths on `secret/` (KV v2 by default since Vault 1.1 in dev
    mode and the Helm chart's dev server) without, or with a doubled, `data/`."""
    path = secret_path.split("?", 1)[0].removeprefix("/").removeprefix("v1/")
    parts = path.split("/")
    if "data" in parts:
        i = parts.index("data")
        if i + 1 < len(parts) and parts[i + 1] == "data":
            return f"secretPath {shown(secret_path)} has data/ twice: KV v2 reads <mount>/data/<path>, once"
        return None
    if parts[0] == "secret" and len(parts) > 1:
        return (
            f"secretPath {shown(secret_path)} has no data/: on a KV v2 mount (secret/ is KV v2 by default) the "
            "provider must read secret/data/<path>, else Vault answers 404; ignore this on a KV v1 mount"
        )
    return None


def parse_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool (no trimming); None when it refuses the text."""
    return PARSE_BOOL.get(value)


def go_file_mode(text: str) -> int | None:
    """filePermission as yaml.v3 decodes a plain scalar into os.FileMode (Go's ParseInt, base 0)."""
    if not _GO_INT.fullmatch(text) or text.lstrip("+-").startswith("_"):
        return None
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    value = int(body, 8) if len(body) > 1 and body[0] == "0" and body[1] in "0123456789" else int(body, 0)
    return sign * value


# --- the objects parameter, read as yaml.v3 fills []Secret ------------------------------------------


@dataclass
class VaultItem:
    """One `objects` entry as the provider decodes it (string fields as written; the rest typed)."""

    index: int
    line: int  # 0-based line of the item inside the objects string
    fields: dict[str, str] = field(default_factory=dict)
    args: dict[str, Any] | None = None
    mode: int | None = None  # filePermission; None = not set (the driver's default)
    case_traps: set[str] = field(default_factory=set)  # known keys written in another case (ignored)

    @property
    def object_name(self) -> str:
        return self.fields.get("objectName", "")

    @property
    def method(self) -> str:
        return self.fields.get("method") or DEFAULT_METHOD


def _scalar_text(node: yaml.Node) -> str:
    return "" if node.tag == _NULL_TAG else str(node.value)


MAX_ARGS_NODES = 1000  # secretArgs is a handful of engine arguments; aliases count each time they are used


class _TooLarge(Exception):
    pass


def _plain(node: yaml.Node, budget: list[int] | None = None) -> Any:
    """A node as plain data, visiting at most MAX_ARGS_NODES nodes (an alias bomb cannot expand here)."""
    budget = budget if budget is not None else [MAX_ARGS_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, yaml.MappingNode):
        return {_scalar_text(k) if isinstance(k, yaml.ScalarNode) else "?": _plain(v, budget) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, budget) for item in node.value]
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except yaml.YAMLError:
        return _scalar_text(node)


@dataclass
class ParsedObjects:
    items: list[VaultItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False: yaml.v3 fails on the list (or it is empty), so the provider refuses the mount

    def refuse(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))
        self.readable = False


def parse_objects(text: object, base: str = "spec.parameters.objects") -> ParsedObjects:
    """The provider's `objects` parameter: a YAML sequence of maps (no `array:` wrapper, unlike Azure).

    Any decoding error fails the whole mount (parseParameters returns the yaml.v3 error).
    """
    out = ParsedObjects()
    if not isinstance(text, str) or not text.strip():
        out.refuse(base, "is required: a YAML list of {objectName, secretPath, secretKey}; the provider refuses a "
                   "class with no secrets")  # fmt: skip
        return out
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        out.refuse(base, "is not valid YAML")
        return out
    if isinstance(node, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "array" for k, _ in node.value
    ):
        out.refuse(base, "uses the Azure provider's 'array:' form: the Vault provider reads a plain YAML list of "
                   "maps ('- objectName: ...')")  # fmt: skip
        return out
    if not isinstance(node, yaml.SequenceNode):
        out.refuse(base, "must be a YAML list of maps ('- objectName: ...'), as one string")
        return out
    if not node.value:
        out.refuse(base, "lists no secret: the provider refuses the mount")
    for i, child in enumerate(node.value):
        where = f"{base}[{i}]"
        if isinstance(child, yaml.ScalarNode) and child.tag != _NULL_TAG:
            out.refuse(where, "must be a map, not a string (the Azure provider's '- |' items do not work here)")
        elif not isinstance(child, yaml.MappingNode):
            out.refuse(where, "must be a map of objectName, secretPath, secretKey")
        else:
            _item(child, i, where, out)
    return out


def _item(node: yaml.MappingNode, index: int, where: str, out: ParsedObjects) -> None:
    item = VaultItem(index, int(node.start_mark.line))
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = _scalar_text(key_node) if isinstance(key_node, yaml.ScalarNode) else "?"
        at = f"{where}.{key}"
        if key in seen:
            out.refuse(at, "is set twice: yaml.v3 refuses the whole objects list")
            continue
        seen.add(key)
        if key not in KNOWN_OBJECT_KEYS:
            if key in RETIRED_OBJECT_KEYS:
                out.problems.append(Problem(at, f"is ignored: {RETIRED_OBJECT_KEYS[key]}", IGNORED))
            elif meant := case_trap(key, KNOWN_OBJECT_KEYS):
                out.problems.append(Problem(at, f"is ignored (keys are case-sensitive): did you mean {meant}?"))
                item.case_traps.add(meant)
            else:
                out.problems.append(Problem(at, "unknown key, the provider ignores it", IGNORED))
            continue
        if key == "secretArgs":
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag == _NULL_TAG:
                continue
            if not isinstance(value_node, yaml.MappingNode):
                out.refuse(at, "must be a map of arguments: the provider refuses the objects list")
                continue
            try:
                item.args = _plain(value_node)
            except _TooLarge:
                out.refuse(at, f"is larger than {MAX_ARGS_NODES} values: not read")
            continue
        if not isinstance(value_node, yaml.ScalarNode):
            out.refuse(at, "must be a single value, not a map or list: the provider refuses the objects list")
            continue
        if key == "filePermission":
            if value_node.tag == _NULL_TAG:
                continue
            mode = go_file_mode(value_node.value) if not value_node.style else None  # plain: None or ""
            if mode is None or mode < 0 or mode > 0xFFFFFFFF:
                quoted = value_node.style in ("'", '"')
                hint = " (unquote it: the provider reads an integer, e.g. 0440)" if quoted else ""
                out.refuse(at, f"{shown(value_node.value)} is not an unsigned integer{hint}: the provider refuses the "
                           "objects list")  # fmt: skip
                continue
            item.mode = mode
            continue
        item.fields[key] = _scalar_text(value_node)
    out.items.append(item)


# --- whole-class checks -----------------------------------------------------------------------------


def _known_parameters(params: Mapping[str, Any], base: str) -> list[Problem]:
    problems: list[Problem] = []
    for key, value in params.items():
        at = f"{base}.{key}"
        if not isinstance(value, str):
            problems.append(Problem(at, f'must be a string (quote it: "{value}"): the API server refuses the class'))
        if key in KNOWN_PARAMETERS or str(key).startswith("csi.storage.k8s.io/"):
            continue
        if key in RETIRED_PARAMETERS:
            problems.append(Problem(at, f"is ignored since provider 0.1.0: {RETIRED_PARAMETERS[key]}", IGNORED))
        elif meant := case_trap(str(key), KNOWN_PARAMETERS):
            problems.append(Problem(at, f"is ignored (parameter names are case-sensitive): did you mean {meant}?"))
        else:
            problems.append(Problem(at, "unknown parameter, the provider ignores it", IGNORED))
    return problems


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    return value if isinstance(value, str) else ""


def _connection_problems(params: Mapping[str, Any], base: str) -> list[Problem]:
    problems: list[Problem] = []
    if not _text(params, "roleName"):
        problems.append(Problem(f"{base}.roleName", "is required: the provider refuses a class without roleName"))
    address = _text(params, "vaultAddress")
    if not address:
        problems.append(
            Problem(
                f"{base}.vaultAddress",
                "is not set: the provider falls back to its own -vault-addr flag or VAULT_ADDR (else "
                "https://127.0.0.1:8200), so which Vault this class reads depends on how the provider was installed",
                IGNORED,
            )
        )
    elif msg := address_problem(address):
        problems.append(Problem(f"{base}.vaultAddress", msg))
    elif address.startswith("http://"):
        problems.append(
            Problem(
                f"{base}.vaultAddress",
                "uses plain http: the pod's service-account token and every secret cross the network unencrypted",
                INSECURE,
            )
        )
    if "vaultKubernetesMountPath" in params and "vaultAuthMountPath" in params:
        problems.append(
            Problem(
                f"{base}.vaultAuthMountPath",
                "set together with vaultKubernetesMountPath: the provider refuses the class (give one)",
            )
        )
    for key in ("vaultKubernetesMountPath", "vaultAuthMountPath"):
        if _text(params, key) and (msg := mount_path_problem(_text(params, key), key)):
            problems.append(Problem(f"{base}.{key}", msg))
    if _text(params, "vaultNamespace") and (msg := namespace_problem(_text(params, "vaultNamespace"))):
        problems.append(Problem(f"{base}.vaultNamespace", msg))
    return problems


def _tls_problems(params: Mapping[str, Any], base: str) -> list[Problem]:
    problems: list[Problem] = []
    skip = params.get("vaultSkipTLSVerify")
    insecure = False
    if isinstance(skip, str):
        parsed = parse_bool(skip)
        if parsed is None:
            problems.append(
                Problem(
                    f"{base}.vaultSkipTLSVerify",
                    f"{shown(skip)} is not a Go boolean (true, false, 1, 0, t, f...): the provider refuses the class",
                )
            )
        elif parsed:
            insecure = True
            problems.append(
                Problem(
                    f"{base}.vaultSkipTLSVerify",
                    "turns off verification of Vault's certificate: anyone in the path can read the pod's "
                    "service-account token and the secrets; mount Vault's CA and set vaultCACertPath instead",
                    INSECURE,
                )
            )
    if insecure and (_text(params, "vaultCACertPath") or _text(params, "vaultCADirectory")):
        problems.append(Problem(f"{base}.vaultCACertPath", "is ignored: vaultSkipTLSVerify is true", IGNORED))
    elif _text(params, "vaultCACertPath") and _text(params, "vaultCADirectory"):
        problems.append(Problem(f"{base}.vaultCADirectory", "is ignored: vaultCACertPath takes precedence", IGNORED))
    cert, key = _text(params, "vaultTLSClientCertPath"), _text(params, "vaultTLSClientKeyPath")
    if bool(cert) != bool(key):
        given, missing = ("vaultTLSClientCertPath", "vaultTLSClientKeyPath")[:: 1 if cert else -1]
        problems.append(
            Problem(f"{base}.{given}", f"needs {missing} too: the Vault client refuses half a client certificate")
        )
    for key_name in ("vaultCACertPath", "vaultCADirectory", "vaultTLSClientCertPath", "vaultTLSClientKeyPath"):
        path = _text(params, key_name)
        if path and not path.startswith("/"):
            problems.append(
                Problem(
                    f"{base}.{key_name}",
                    f"{shown(path)} must be an absolute path inside the vault-csi-provider pods "
                    "(not the application's)",
                )
            )
    return problems


def item_problems(item: VaultItem, where: str) -> list[Problem]:
    """The checks on one decoded `objects` entry."""
    problems: list[Problem] = []
    f = item.fields
    if msg := file_name_problem(f.get("objectName", "")):
        problems.append(Problem(f"{where}.objectName", msg))
    secret_path = f.get("secretPath", "")
    if msg := secret_path_problem(secret_path):
        problems.append(Problem(f"{where}.secretPath", msg))
    elif hint := kv2_path_hint(secret_path):
        problems.append(Problem(f"{where}.secretPath", hint, IGNORED if "no data/" in hint else INVALID))
    method = f.get("method", "")
    if method and (msg := method_problem(method)):
        problems.append(Problem(f"{where}.method", msg))
    if f.get("encoding") and (msg := encoding_problem(f["encoding"])):
        problems.append(Problem(f"{where}.encoding", msg))
    if not f.get("secretKey") and item.method == "GET" and "secretKey" not in item.case_traps:
        problems.append(
            Problem(
                f"{where}.secretKey",
                "is not set: the provider writes the whole JSON response (lease, metadata and every key of the "
                "secret) into the file, not one value",
                IGNORED,
            )
        )
    if item.args and item.method == "GET":
        problems.append(
            Problem(
                f"{where}.secretArgs",
                "is ignored with method GET: the provider sends secretArgs as a request body and Vault reads a "
                "body only for PUT/POST (put GET parameters in secretPath: ?version=2)",
                IGNORED,
            )
        )
    if item.mode is not None and item.mode > 0o777:
        problems.append(
            Problem(
                f"{where}.filePermission",
                f"{item.mode} is {oct(item.mode)}: more than permission bits (did you write 644 for 0644? "
                "without a leading 0 it is decimal)",
            )
        )
    return problems


def provider_problems(params: object, base: str = "spec.parameters") -> tuple[list[Problem], set[str] | None]:
    """Every Vault-provider rule the class's parameters break, and the file names its objects write
    (None when the objects could not be read)."""
    if not isinstance(params, Mapping):
        return [Problem(base, "is required for provider vault (roleName, vaultAddress, objects)")], None
    problems = _known_parameters(params, base)
    problems += _connection_problems(params, base)
    problems += _tls_problems(params, base)
    parsed = parse_objects(params.get("objects"), f"{base}.objects")
    problems += parsed.problems
    files: dict[str, int] = {}
    responses: dict[tuple[str, str], VaultItem] = {}
    for item in parsed.items:
        where = f"{base}.objects[{item.index}]"
        problems += item_problems(item, where)
        name = item.object_name
        if name in files:
            problems.append(
                Problem(
                    f"{where}.objectName",
                    f"{shown(name)} is also the objectName of item {files[name] + 1}: the provider refuses duplicate "
                    "objectNames",
                )
            )
        files.setdefault(name, item.index)
        key = (item.fields.get("secretPath", ""), item.method)
        first = responses.setdefault(key, item)
        if first is not item and first.args != item.args:
            problems.append(
                Problem(
                    f"{where}.secretArgs",
                    f"differ from item {first.index + 1}'s for the same secretPath and method: the provider reads "
                    "each (secretPath, method) once per mount and reuses that response, so these are ignored",
                    IGNORED,
                )
            )
    return problems, set(files) if parsed.readable else None
