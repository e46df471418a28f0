"""Private keys in every form Sealed Secrets users keep them; certificates from `sealkit.certificates`.

The certificate side (`SealingCertificate`, `load_certificate`, kubeseal's `fingerprint`) lives in
`sealkit.certificates`, which sealing loads without the private-key code, and is re-exported here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.certificates import NOT_A_CERTIFICATE, PEM_BLOCKS, refuse_another_keys_certificate, rsa_key
from sealkit.certificates import SealingCertificate as SealingCertificate
from sealkit.certificates import certificate_not_before as certificate_not_before
from sealkit.certificates import fingerprint as fingerprint
from sealkit.certificates import load_certificate as load_certificate
from sealkit.documents import load_documents
from sealkit.errors import InputError, KeyMaterialError
from sealkit.manifest import decode_base64
from sealkit.validation import type_name
from sealkit.wrapping.names import KEK_ID, WRAPPED_KEY_TYPE


@dataclass(frozen=True)
class PrivateKey:
    """One private sealing key, with what is known of when it was made (for "newest" ordering)."""

    key: rsa.RSAPrivateKey
    fingerprint: str
    source: str
    not_before: dt.datetime | None = None
    certificate_pem: bytes | None = field(default=None, repr=False)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.key.public_key()


# Bounds on one PEM text (a key file, or a key Secret's tls.key or tls.crt), checked before any block is parsed:
# the controller parses key Secrets on its event loop, and checking an RSA private key costs about 0.3 s at 4096
# bits, 16 times more per doubling. A key Secret holds one key and one certificate; `openssl pkcs12 -nodes`
# writes a key, its certificate and the chain. Keys in more blocks are given in more files.
MAX_PEM_BLOCKS = 16
MAX_PEM_BLOCK_BYTES = 64 * 1024  # a 16384-bit PKCS#8 key is 12.7 KiB, a certificate with a long SAN list a few
MAX_KEY_BITS = 16384  # as the controller's --key-size (Bitnami's limit of what it generates too)


def _pem_blocks(text: str, source: str, field: str) -> Iterator[tuple[str, str]]:
    """(block type, whole block) for every PEM block in `text`, within the bounds above; a block that begins
    and does not end (a truncated file) is refused, never passed over as Go's pem.Decode passes over it."""
    field = f"{field}: " if field else ""
    pos = count = 0
    while True:
        start = text.find("-----BEGIN ", pos)
        if start < 0:
            return
        type_end = text.find("-----", start + 11)
        kind = text[start + 11 : type_end] if type_end >= 0 else ""
        end_marker = f"-----END {kind}-----"
        end = text.find(end_marker, type_end) if type_end >= 0 else -1
        if end < 0:
            raise KeyMaterialError(f"{field}a PEM block has no END line (truncated or damaged)", where=source)
        count += 1
        if count > MAX_PEM_BLOCKS:
            raise KeyMaterialError(
                f"{field}more than {MAX_PEM_BLOCKS} PEM blocks (the limit for one key file or key Secret field; "
                "give keys in several files)",
                where=source,
            )
        pos = end + len(end_marker)
        if pos - start > MAX_PEM_BLOCK_BYTES:
            raise KeyMaterialError(
                f"{field}a PEM block is larger than {MAX_PEM_BLOCK_BYTES >> 10} KiB (the limit for one block)",
                where=source,
            )
        yield kind, text[start:pos]


def pem_blocks(text: str, source: str, field: str = "") -> list[tuple[str, str]]:
    """Every PEM block of `text` (a certificate bundle too), refused as a whole beyond the bounds above before
    anything parses one of them; `field` (tls.key, tls.crt) is named in the refusal."""
    return list(_pem_blocks(text, source, field))


# A PEM private key's first line at the start of a line: a PEM file, also with text before it (`openssl pkcs12
# -nodes` writes "Bag Attributes", people add a comment), which Go's pem.Decode and kubeseal skip; in a key
# Secret the PEM is base64 or indented (YAML) or escaped (JSON), never at a line's start.
_PRIVATE_KEY_LINE = re.compile(r"^\ufeff?-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?$", re.MULTILINE)
_PLAIN_KIND = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,62}")
_PEM_KINDS = ("CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE REQUEST", "X509 CRL", "EC PARAMETERS")


def _pem_kind(kind: str) -> str:
    """A PEM block's type for messages: a well-known one, else not shown (it is text from the file)."""
    return kind.lower() if kind in _PEM_KINDS else "other blocks"


def _load_private_pem(kind: str, block: str, source: str) -> rsa.RSAPrivateKey:
    """One PEM private key block; never prompts for a password (an encrypted key is refused, saying so)."""
    if kind == "OPENSSH PRIVATE KEY":
        raise KeyMaterialError("an OpenSSH private key, not a PKCS#1 or PKCS#8 PEM key", where=source)
    try:  # its size first, unchecked (cheap): checking a key costs more the larger it is
        key = serialization.load_pem_private_key(block.encode(), password=None, unsafe_skip_rsa_key_validation=True)
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size > MAX_KEY_BITS:
            raise KeyMaterialError(
                f"the private key has {key.key_size} bits (at most {MAX_KEY_BITS}, as the controller makes them)",
                where=source,
            )
        key = serialization.load_pem_private_key(block.encode(), password=None)
    except TypeError:  # cryptography: the key is encrypted and no password was given
        raise KeyMaterialError(
            "the private key is encrypted (not supported: decrypt it first, e.g. openssl pkey -in FILE -out PLAIN)",
            where=source,
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyMaterialError(
            "a private key block does not parse (damaged, or not a PKCS#1 or PKCS#8 key)", where=source
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyMaterialError("the private key is not RSA", where=source)
    return key


def _keys_from_pem(text: str, source: str, field: str = "") -> list[PrivateKey]:
    keys: list[PrivateKey] = []
    certs: list[bytes] = []
    for kind, block in pem_blocks(text, source, field):
        if kind.endswith("PRIVATE KEY"):
            key = _load_private_pem(kind, block, source)
            keys.append(PrivateKey(key, fingerprint(key.public_key()), source))
        elif kind == "CERTIFICATE":
            certs.append(block.encode())
    if not certs or not keys:
        return keys
    if len(keys) == 1:  # the first certificate is the key's (the caller checks it); the rest a chain, as openssl's
        return [_with_certificate(keys[0], certs[0])]
    return _certificates_by_key(keys, certs, source, field)


def _with_certificate(key: PrivateKey, cert_pem: bytes) -> PrivateKey:
    return PrivateKey(key.key, key.fingerprint, key.source, certificate_not_before(cert_pem), cert_pem)


def _certificates_by_key(keys: list[PrivateKey], certs: list[bytes], source: str, field: str) -> list[PrivateKey]:
    """Several keys and certificates in one PEM text: each certificate goes to the key it certifies, found by its
    public key (kubeseal reads the first key of a PEM and no certificate; sealkit dates and checks keys by theirs).
    A certificate that is no key's of the text, or cannot be told (it does not parse, its key is not RSA), is
    refused: passing it over would drop a key's certificate, or keep another key's, without a word."""
    field = f"{field}: " if field else ""
    by_numbers = {key.public_key.public_numbers(): i for i, key in enumerate(keys)}
    found: dict[int, bytes] = {}
    for cert_pem in certs:
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except NOT_A_CERTIFICATE:
            raise KeyMaterialError(f"{field}a certificate does not parse", where=source) from None
        public = rsa_key(cert)
        if public is None:
            raise KeyMaterialError(f"{field}a certificate's key is not RSA", where=source)
        index = by_numbers.get(public.public_numbers())
        if index is None:
            raise KeyMaterialError(
                f"{field}a certificate is the certificate of another key, not of any of the {len(keys)} private keys "
                "(give each key with its own certificate)",
                where=source,
            )
        found.setdefault(index, cert_pem)
    return [_with_certificate(key, found[i]) if i in found else key for i, key in enumerate(keys)]


def _secret_field(secret: Mapping[str, Any], name: str, where: str) -> str | None:
    """`stringData[name]`, else `data[name]` decoded; a field of the wrong type is refused, never taken for
    absent (a key Secret whose data is a list read 'has no tls.key')."""
    fields = {}
    for field_name in ("stringData", "data"):
        value = secret.get(field_name)
        if value is not None and not isinstance(value, Mapping):
            raise KeyMaterialError(f"{field_name} is a {type_name(value)}, not a mapping", where=where)
        fields[field_name] = value or {}
    for field_name in ("stringData", "data"):
        value = fields[field_name].get(name)
        if value is not None and not isinstance(value, str):
            raise KeyMaterialError(f"{field_name}.{name} is a {type_name(value)}, not a string", where=where)
    if fields["stringData"].get(name) is not None:
        if fields["data"].get(name) is not None:  # the API server would keep stringData's: one dropped unseen
            raise KeyMaterialError(f"{name} is in both data and stringData (give it once)", where=where)
        return str(fields["stringData"][name])
    if fields["data"].get(name) is not None:
        try:  # Go's rules, as the API server and kubectl read Secret data: line breaks may split it
            return decode_base64(fields["data"][name], f"data.{name}").decode()
        except InputError as exc:
            raise KeyMaterialError(exc.what, where=where) from None
        except UnicodeDecodeError:
            raise KeyMaterialError(f"data.{name} is not UTF-8 PEM text", where=where) from None
    return None


def is_wrapped_key_document(obj: Any) -> bool:
    """A sealkit wrapped key Secret (its key opens only through Key Vault; see `sealkit.wrapping`)."""
    if not isinstance(obj, Mapping) or obj.get("kind") != "Secret":
        return False
    data = obj.get("data") or {}
    return obj.get("type") == WRAPPED_KEY_TYPE or (isinstance(data, Mapping) and KEK_ID in data)


@dataclass(frozen=True)
class KeyDocuments:
    """What a key file holds: plaintext private keys, and wrapped key Secrets (raw, with where they were)."""

    keys: list[PrivateKey]
    wrapped: list[tuple[Mapping[str, Any], str]]


def _keys_from_object(
    obj: Any, where: str, wrapped: list[tuple[Mapping[str, Any], str]] | None = None, *, check: bool = False
) -> Iterator[PrivateKey]:
    if not isinstance(obj, Mapping):
        raise KeyMaterialError("not a key Secret, a v1 List of them, or PEM", where=where)
    kind = obj.get("kind")
    if kind == "List" or (isinstance(kind, str) and kind.endswith("List") and "items" in obj):
        items = obj.get("items") or []
        if not isinstance(items, list):
            raise KeyMaterialError("items is not a list", where=where)
        for i, item in enumerate(items):
            yield from _keys_from_object(item, f"{where} item {i + 1}", wrapped, check=check)
        return
    if kind != "Secret":
        label = kind if isinstance(kind, str) and _PLAIN_KIND.fullmatch(kind) else "document without a plain kind"
        raise KeyMaterialError(f"a {label} is not a key Secret", where=where)
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    name = name if isinstance(name, str) and _PLAIN_KIND.fullmatch(name) else "Secret"
    if is_wrapped_key_document(obj):
        if wrapped is None:
            raise KeyMaterialError(
                "a wrapped key Secret: its key opens only through its Key Vault key "
                "(sealkit unseal --private-key unwraps it with vault access)",
                where=f"{where} ({name})",
            )
        wrapped.append((obj, f"{where} ({name})"))
        return
    tls_key = _secret_field(obj, "tls.key", where)
    if tls_key is None:
        raise KeyMaterialError("the Secret has no tls.key", where=where)
    cert = _secret_field(obj, "tls.crt", where)
    if cert:
        pem_blocks(cert, f"{where} ({name})", "tls.crt")  # bounded before anything parses it
    found = _keys_from_pem(tls_key, f"{where} ({name})", "tls.key")
    if not found:
        raise KeyMaterialError("tls.key holds no PEM private key", where=where)
    for key in found:
        cert_pem = cert.encode() if cert else None
        not_before = certificate_not_before(cert_pem) if cert_pem else None
        held = PrivateKey(key.key, key.fingerprint, key.source, not_before, cert_pem)
        if check:  # unchecked, the caller checks with its own where (the controller, escrow, `keys restore`)
            refuse_another_keys_certificate(cert_pem, key.public_key, held.source)
        yield held


def load_private_keys(
    data: bytes, source: str = "private key", *, check_certificates: bool = False
) -> list[PrivateKey]:
    """Private keys from PEM (PKCS#1 or PKCS#8), a backed-up key Secret, or a v1 List of them. With
    `check_certificates` (offline recovery: `unseal`, `verify`/`reencrypt --private-key`), a certificate beside a
    key (tls.crt) that does not parse or is another key's is refused, as `keys restore` refuses it
    (`sealkit.certificates.refuse_another_keys_certificate`, the one check of it)."""
    found = _load(data, source, None, check_certificates)
    if not found:
        raise KeyMaterialError("no private key found", where=source)
    return found


def load_key_documents(data: bytes, source: str = "private key", *, check_certificates: bool = False) -> KeyDocuments:
    """As `load_private_keys`, but wrapped key Secrets are returned for the caller to unwrap, not refused."""
    wrapped: list[tuple[Mapping[str, Any], str]] = []
    keys = _load(data, source, wrapped, check_certificates)
    if not keys and not wrapped:
        raise KeyMaterialError("no private key found", where=source)
    return KeyDocuments(keys, wrapped)


def _load(
    data: bytes, source: str, wrapped: list[tuple[Mapping[str, Any], str]] | None, check: bool
) -> list[PrivateKey]:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise KeyMaterialError("binary data, not a PEM key or a key Secret", where=source) from None
    if text.lstrip().startswith("-----BEGIN") or _PRIVATE_KEY_LINE.search(text):
        keys = _keys_from_pem(text, source)
        if not keys:
            kinds = sorted({_pem_kind(kind) for kind, _ in pem_blocks(text, source)}) or ["nothing readable"]
            raise KeyMaterialError(f"no private key found (the PEM holds {', '.join(kinds)})", where=source)
        for key in keys if check else ():
            refuse_another_keys_certificate(key.certificate_pem, key.public_key, key.source, names=PEM_BLOCKS)
        return keys
    try:
        documents = load_documents(text, source)
    except InputError as exc:
        raise KeyMaterialError(exc.what, where=exc.where) from None
    return [key for doc in documents for key in _keys_from_object(doc.obj, doc.where, wrapped, check=check)]


class KeyRing:
    """Private keys, newest first, deduplicated by fingerprint."""

    def __init__(self, keys: Iterable[PrivateKey] = ()) -> None:
        self._keys: dict[str, PrivateKey] = {}
        self._order: tuple[PrivateKey, ...] | None = None  # newest first, until the next add or remove
        for key in keys:
            self.add(key)

    def add(self, key: PrivateKey) -> None:
        self._keys.setdefault(key.fingerprint, key)
        self._order = None

    def remove(self, fp: str) -> None:
        self._keys.pop(fp, None)
        self._order = None

    def get(self, fp: str) -> PrivateKey | None:
        return self._keys.get(fp)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[PrivateKey]:
        return iter(self.newest_first())

    def __contains__(self, fp: object) -> bool:
        return fp in self._keys

    def fingerprints(self) -> list[str]:
        return [key.fingerprint for key in self.newest_first()]

    def newest_first(self) -> list[PrivateKey]:
        """Newest to oldest by notBefore (sorted once per change: the controller asks for every object)."""
        if self._order is None:
            epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
            self._order = tuple(sorted(self._keys.values(), key=lambda k: k.not_before or epoch, reverse=True))
        return list(self._order)

    def newest(self) -> PrivateKey | None:
        ordered = self.newest_first()
        return ordered[0] if ordered else None

    def try_order(self, preferred: str | None = None) -> list[PrivateKey]:
        """The key that opened this object last time first, then newest to oldest."""
        ordered = self.newest_first()
        if preferred and preferred in self._keys:
            first = self._keys[preferred]
            return [first, *(k for k in ordered if k is not first)]
        return ordered
