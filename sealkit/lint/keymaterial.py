"""Private keys in any file, whatever its name: the one leak no rename makes harmless.

Every file lint reads passes through `find_keys`, text or binary. It recognises:

- PEM private-key blocks of every type (`-----BEGIN RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP ... PRIVATE
  KEY-----`, plain PKCS#8 `PRIVATE KEY`, the SSH2 `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`),
  also with escaped newlines (`\\n` in JSON strings) and base64-encoded once (`LS0tLS1CRUdJTi...`,
  as kubeconfigs' `client-key-data` hold them); a block needs a body, so a doc's placeholder
  (`-----BEGIN PRIVATE KEY-----\\n...`) is not a key;
- PuTTY `.ppk` keys (`PuTTY-User-Key-File-N:` with `Private-Lines:`) and age identities
  (`AGE-SECRET-KEY-1...`);
- DER by its ASN.1 structure, at the start of a binary file or base64-encoded in text: PKCS#12
  (version 3, PKCS#7 data or signedData content), PKCS#8 plain (v1 and v2, the short Ed25519/X25519
  and Ed448 ones too) and encrypted (PBES/PKCS#12 PBE algorithms), PKCS#1 RSA and SEC 1 EC keys;
- Java keystores (JKS, JCEKS) with at least one private-key entry (trusted certificates alone
  are public).

Text saved as UTF-16 (what Windows PowerShell 5's `>` writes) is read as the text it is: with a byte-order
mark, or without one when a marker above appears in it one byte apart. Public keys and certificates never
match. Results name a line and a kind, never key bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

_PEM = re.compile(
    rb"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
)
_BODY_RUN = re.compile(rb"[A-Za-z0-9+/=]{16,}")
_PEM_HEADERS = re.compile(rb"(?m)^[\s\"'|>+,]*(?:Proc-Type|DEK-Info|Comment|Version|Subject|Hash)\s*:[^\n]*\n")
_PEM_BODY = re.compile(rb"[A-Za-z0-9+/=\s\"'|>+,]*")
_PUTTY = re.compile(rb"PuTTY-User-Key-File-\d+: [\w@.-]+\r?\nEncryption: ")
_AGE = re.compile(rb"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}")
_B64_PEM = re.compile(rb"(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}")
# A DER SEQUENCE (0x30) in base64: "MI" for a long-form length (most keys), "MA".."MH" for one under 128
# bytes (Ed25519/X25519 and Ed448 PKCS#8, P-256 SEC 1); 64 characters at least (48 bytes, an Ed25519 key).
# (The lookbehind comes after the literal "M" so the regex engine searches for it fast.)
_B64_DER = re.compile(rb"M[A-I](?<![A-Za-z0-9+/]M[A-I])[A-Za-z0-9+/]{62,}")
_TEXT_MARKERS = (b"PRIVATE KEY", b"PuTTY-User-Key-File", b"AGE-SECRET-KEY-1", b"LS0tLS1CRUdJTi")
_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
# The markers one byte apart, as UTF-16 (either byte order) spells them.
_UTF16_MARKERS = tuple(b"\x00".join(bytes([c]) for c in marker) for marker in _TEXT_MARKERS)

MIN_BODY = 40  # base64 characters a PEM block needs to hold key material
_BODY_WINDOW = 400
_JKS_MAGIC = {b"\xfe\xed\xfe\xed": "a Java keystore (JKS)", b"\xce\xce\xce\xce": "a Java keystore (JCEKS)"}
_MAX_JKS_ENTRIES = 10_000

_PEM_KINDS = {
    "RSA PRIVATE KEY": "an RSA private key (PEM)",
    "EC PRIVATE KEY": "an EC private key (PEM)",
    "DSA PRIVATE KEY": "a DSA private key (PEM)",
    "OPENSSH PRIVATE KEY": "an OpenSSH private key",
    "PRIVATE KEY": "a PKCS#8 private key (PEM)",
    "ENCRYPTED PRIVATE KEY": "an encrypted PKCS#8 private key (PEM)",
    "PGP PRIVATE KEY BLOCK": "a PGP private key",
}

# DER prefixes (after the outer SEQUENCE header).
_PKCS7_DATA = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07"  # 1.2.840.113549.1.7.(1|2)
_PKCS5_PBE = b"\x2a\x86\x48\x86\xf7\x0d\x01\x05"  # 1.2.840.113549.1.5.* (PBES1/PBES2)
_PKCS12_PBE = b"\x2a\x86\x48\x86\xf7\x0d\x01\x0c\x01"  # 1.2.840.113549.1.12.1.*


@dataclass(frozen=True)
class KeyFind:
    """One private key: the 1-based line it starts on and what kind it is."""

    line: int
    what: str


def _header(data: bytes, offset: int) -> tuple[int, int] | None:
    """(tag, offset of the content) of the DER/BER element at `offset`, or None."""
    if offset + 2 > len(data):
        return None
    tag, first = data[offset], data[offset + 1]
    if first < 0x80 or first == 0x80:  # short form, or BER indefinite length
        return tag, offset + 2
    count = first & 0x7F
    if count > 4 or offset + 2 + count > len(data):
        return None
    return tag, offset + 2 + count


def der_kind(data: bytes) -> str | None:
    """What private-key container a DER blob's first bytes are, or None."""
    outer = _header(data, 0)
    if outer is None or outer[0] != 0x30:
        return None
    rest = data[outer[1] :]
    if rest.startswith(b"\x02\x01\x03"):
        inner = _header(rest, 3)
        content = rest[inner[1] :] if inner is not None and inner[0] == 0x30 else b""
        if content.startswith(_PKCS7_DATA) and content[len(_PKCS7_DATA) : len(_PKCS7_DATA) + 1] in (b"\x01", b"\x02"):
            return "a PKCS#12 keystore (.p12/.pfx)"
        return None
    if rest.startswith((b"\x02\x01\x00\x30", b"\x02\x01\x01\x30")):  # PKCS#8 v1, v2 (OneAsymmetricKey)
        algorithm = _header(rest, 3)
        if algorithm is not None and rest[algorithm[1] : algorithm[1] + 1] == b"\x06":
            return "a PKCS#8 private key (DER)"
        return None
    if rest.startswith(b"\x02\x01\x00\x02"):
        return "an RSA private key (DER)"
    if rest.startswith(b"\x02\x01\x01\x04"):
        return "an EC private key (DER)"
    if rest[:1] == b"\x30":
        algorithm = _header(rest, 0)
        if algorithm is not None and rest[algorithm[1] : algorithm[1] + 1] == b"\x06":
            oid = _header(rest, algorithm[1])
            if oid is not None:
                body = rest[oid[1] : oid[1] + 9]
                if body.startswith(_PKCS5_PBE) or body.startswith(_PKCS12_PBE):
                    return "an encrypted PKCS#8 private key (DER)"
    return None


def _u32(data: bytes, offset: int) -> int | None:
    return int.from_bytes(data[offset : offset + 4], "big") if offset + 4 <= len(data) else None


def _jks_has_private_key(data: bytes) -> bool:
    """Walk a JKS/JCEKS entry list: tag 1 is a private key, 2 a trusted certificate, 3 a secret key."""
    count = _u32(data, 8)
    offset = 12
    if count is None:
        return False
    for _ in range(min(count, _MAX_JKS_ENTRIES)):
        tag = _u32(data, offset)
        if tag in (1, 3):
            return True
        if tag != 2 or offset + 6 > len(data):
            return False
        offset += 4
        offset += 2 + int.from_bytes(data[offset : offset + 2], "big") + 8  # alias, timestamp
        if offset + 2 > len(data):
            return False
        offset += 2 + int.from_bytes(data[offset : offset + 2], "big")  # certificate type
        length = _u32(data, offset)
        if length is None:
            return False
        offset += 4 + length
    return False


def _has_body(data: bytes, start: int) -> bool:
    """A key body right after the header: base64 lines (RFC 1421 headers allowed), possibly
    indented, quoted or with escaped newlines, up to the END line or the window's end."""
    window = data[start : start + _BODY_WINDOW].replace(b"\\r\\n", b"\n").replace(b"\\n", b"\n")
    end = min((i for i in (window.find(b"-----END"), window.find(b"---- END")) if i >= 0), default=-1)
    complete = end >= 0
    window = _PEM_HEADERS.sub(b"", window[:end] if complete else window)
    if not complete:
        window = window[: window.rfind(b"\n") + 1] or window  # the last line may be cut by the window
    return bool(_PEM_BODY.fullmatch(window)) and sum(len(r) for r in _BODY_RUN.findall(window)) >= MIN_BODY


def _b64_prefix(token: bytes, length: int) -> bytes:
    chunk = token[: length - length % 4]
    try:
        return base64.b64decode(chunk, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _utf16(data: bytes) -> bytes | None:
    """UTF-16 text (a byte-order mark, or NUL bytes and a marker one byte apart) as UTF-8, line for line;
    None for anything else."""
    encoding = _UTF16_BOMS.get(data[:2])
    if encoding is None:
        if b"\x00" not in data or not any(marker in data for marker in _UTF16_MARKERS):
            return None
        encoding = "utf-16-le" if data[1::2].count(0) >= data[::2].count(0) else "utf-16-be"
    return data.decode(encoding, "replace").encode("utf-8", "replace")


def find_keys(data: bytes) -> list[KeyFind]:
    """Every private key in a file's bytes, by line (at most one per line)."""
    found: dict[int, str] = {}
    magic = _JKS_MAGIC.get(data[:4])
    if magic and _jks_has_private_key(data):
        found[1] = magic + " with a private key"
    if data[:1] == b"\x30" and (kind := der_kind(data[:64])):
        found.setdefault(1, kind)
    text = _utf16(data)
    if text is not None:
        for key in _find_in_text(text):
            found.setdefault(key.line, key.what)
        return _sorted(found)
    for key in _find_in_text(data):
        found.setdefault(key.line, key.what)
    return _sorted(found)


CHUNK_BYTES = 1 << 20  # what find_keys_in_chunks expects a piece to hold (even, so UTF-16 stays aligned)
OVERLAP_BYTES = 1 << 14  # each piece is scanned with this much of the one before: more than any marker's window


def find_keys_in_chunks(chunks: Iterable[bytes]) -> list[KeyFind]:
    """`find_keys` over a file read piece by piece (one too large to read whole: memory stays bounded): each
    piece is scanned behind the end of the one before it, so a key across a boundary is still found, at its
    line in the whole file."""
    found: dict[int, str] = {}
    tail, lines_before, encoding = b"", 0, None
    for index, chunk in enumerate(chunks):
        window = tail + chunk
        if index == 0:
            finds = find_keys(window)
            encoding = _UTF16_BOMS.get(window[:2])
        else:
            text = window.decode(encoding, "replace").encode("utf-8", "replace") if encoding else _utf16(window)
            finds = _find_in_text(window if text is None else text)
        for key in finds:
            found.setdefault(lines_before + key.line, key.what)
        tail = window[-OVERLAP_BYTES:]
        lines_before += window.count(b"\n", 0, len(window) - len(tail))
    return _sorted(found)


def _find_in_text(data: bytes) -> list[KeyFind]:
    """The keys written as text: PEM, PuTTY, age, and base64 of PEM or DER."""
    found: dict[int, str] = {}

    def line_of(offset: int) -> int:
        return data.count(b"\n", 0, offset) + 1

    blocks: list[tuple[int, int]] = []  # PEM blocks found: their bodies are not reported again as DER
    for match in _PEM.finditer(data) if b"PRIVATE KEY" in data else ():
        if _has_body(data, match.end()):
            label = match.group(1).decode() if match.group(1) else "SSH2 ENCRYPTED PRIVATE KEY"
            found.setdefault(line_of(match.start()), _PEM_KINDS.get(label, f"a private key (PEM {label})"))
            end = data.find(b"-----END", match.end())
            blocks.append((match.start(), end if end >= 0 else len(data)))
    if b"PuTTY-User-Key-File" in data:
        for match in _PUTTY.finditer(data):
            if re.search(rb"Private-Lines: \d+\r?\n[A-Za-z0-9+/=]{16,}", data[match.end() : match.end() + 8192]):
                found.setdefault(line_of(match.start()), "a PuTTY private key")
    if b"AGE-SECRET-KEY-1" in data:
        for match in _AGE.finditer(data):
            found.setdefault(line_of(match.start()), "an age secret key")
    if b"LS0tLS1CRUdJTi" in data:
        for match in _B64_PEM.finditer(data):
            decoded = _b64_prefix(match.group(), 96)
            if b"PRIVATE KEY" in decoded:
                found.setdefault(line_of(match.start()), "a base64-encoded PEM private key")
    for match in _B64_DER.finditer(data):
        if any(start <= match.start() < end for start, end in blocks):
            continue
        kind = der_kind(_b64_prefix(match.group(), 64))
        if kind is not None:
            found.setdefault(line_of(match.start()), f"base64 of {kind}")
    return _sorted(found)


def _sorted(found: dict[int, str]) -> list[KeyFind]:
    return [KeyFind(line, what) for line, what in sorted(found.items())]
