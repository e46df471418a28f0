"""Hypothesis strategies for tests/fuzz: the seeded corpus, byte- and token-level mutations of it, and
Secret-shaped objects with a planted plaintext value in every place a value can go."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sealkit.errors import SealkitError
from sealkit.reading import load_documents

CORPUS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus"
PLANTED = "Pl4nted-S3cret-Xq7"
PLANTED_B64 = base64.b64encode(PLANTED.encode()).decode()

# A fixed example budget and derandomized generation: every CI run tries the same inputs.
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def corpus() -> dict[str, bytes]:
    """Every seed, with PLANTED replaced by the planted value."""
    return {
        path.name: path.read_bytes().replace(b"PLANTED", PLANTED.encode())
        for path in sorted(CORPUS.iterdir())
        if path.is_file() and path.name != "README.md"
    }


SEEDS = corpus()
TOKENS = [
    b"\n", b"  ", b"- ", b": ", b"{", b"}", b"[", b"]", b",", b"&a ", b"*a", b"<<: ", b"---\n", b"!!binary ",
    b"\x00", b"\xff", b"\"", b"'", b"#", b"|\n", b"? ", b"%YAML 1.1\n", b"\t", PLANTED.encode(),
    b"apiVersion: v1\n", b"kind: Secret\n", b"kind: SealedSecret\n", b"stringData:\n", b"9" * 30,
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, bytes] | None = None) -> bytes:
    """A seed with a few insertions, deletions and replacements (bytes or YAML tokens)."""
    data = bytearray(draw(st.sampled_from(sorted((seeds or SEEDS).values()))))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "token"]))
        if action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif action == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            data[at:at] = draw(st.sampled_from(TOKENS))
    return bytes(data)


INPUTS = st.one_of(mutated(), st.binary(max_size=200), st.lists(st.sampled_from(TOKENS), max_size=60).map(b"".join))

# Secret-shaped objects: a planted value may land in any field, of any type.
PLANTED_VALUES = st.sampled_from([PLANTED, {"password": PLANTED}, [PLANTED], {PLANTED: "x"}, f"{PLANTED} x"])
ANY_VALUE: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), PLANTED_VALUES
)
NAMES = st.one_of(st.sampled_from(["db", "team-a", "a.b", "Bad_Name", "", "x" * 300]), ANY_VALUE)
STRING_MAPS = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["app", "example.com/x", "bad key", "-x", "x" * 70]), ANY_VALUE, max_size=3),
    ANY_VALUE,
)
SECRET_TYPES = ["Opaque", "kubernetes.io/tls", "kubernetes.io/basic-auth", "kubernetes.io/dockerconfigjson"]
DATA_KEYS = st.sampled_from(["password", "tls.crt", "tls.key", ".dockerconfigjson", "bad/key", "..x", "user", ""])
FIELD_PATHS = [
    ("apiVersion",),
    ("kind",),
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "labels"),
    ("metadata", "labels", "app"),
    ("metadata", "annotations"),
    ("metadata", "annotations", "example.com/note"),
    ("type",),
    ("immutable",),
    ("data",),
    ("data", "username"),
    ("stringData",),
    ("stringData", "password"),
]


def _secret_with(changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """A valid Secret (the planted value in stringData) with a few fields replaced by odd values."""
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a", "labels": {"app": "db"}},
        "type": "Opaque",
        "data": {"username": "YWRtaW4="},
        "stringData": {"password": PLANTED},
    }
    for path, value in changes:
        target: Any = obj
        for part in path[:-1]:
            if not isinstance(target, dict):
                break
            target = target.setdefault(part, {})
        if isinstance(target, dict):
            target[path[-1]] = value
    return obj


secrets = st.one_of(
    st.lists(
        st.tuples(st.sampled_from(FIELD_PATHS), st.one_of(ANY_VALUE, st.sampled_from(SECRET_TYPES), DATA_KEYS)),
        min_size=1,
        max_size=3,
    ).map(_secret_with),
    st.fixed_dictionaries(
        {"apiVersion": st.sampled_from(["v1", "v2", None]), "kind": st.sampled_from(["Secret", "ConfigMap", None])},
        optional={
            "metadata": st.one_of(
                st.fixed_dictionaries(
                    {"name": NAMES}, optional={"namespace": NAMES, "labels": STRING_MAPS, "annotations": STRING_MAPS}
                ),
                ANY_VALUE,
            ),
            "type": st.one_of(st.sampled_from(SECRET_TYPES), ANY_VALUE),
            "immutable": ANY_VALUE,
            "data": st.one_of(
                st.dictionaries(DATA_KEYS, st.one_of(st.just(PLANTED_B64), ANY_VALUE), max_size=3), ANY_VALUE
            ),
            "stringData": st.one_of(st.dictionaries(DATA_KEYS, ANY_VALUE, max_size=3), ANY_VALUE),
        },
    ),
)


def leaks(text: str) -> bool:
    """The planted value, or its base64, in `text`."""
    return PLANTED in text or PLANTED_B64 in text


def leaks_beyond(text: str, public: str) -> bool:
    """The planted value in `text` once every public string (one per line of `public`, e.g. the data keys
    `copied_in_clear` lists) is taken out: an error may name a data key, which is public by design."""
    for part in sorted(filter(None, public.splitlines()), key=len, reverse=True):
        text = text.replace(part, "")
    return leaks(text)


def copied_in_clear(obj: Any) -> str:
    """The strings of the fields `seal` copies into the SealedSecret in clear (name, namespace, type, labels,
    annotations, and the data keys, which name encryptedData's items): a value put there is public by design,
    so it may show in the output."""
    out: list[str] = []
    obj = obj if isinstance(obj, dict) else {}
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    for value in (meta.get("name"), meta.get("namespace"), obj.get("type")):
        out.append(value if isinstance(value, str) else "")
    for field in ("labels", "annotations"):
        if isinstance(meta.get(field), dict):
            out.extend(f"{k}={v}" for k, v in meta[field].items())
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            out.extend(str(key) for key in obj[field])
    return "\n".join(out)


def copied_fields(data: bytes) -> str:
    """`copied_in_clear` over every document of `data`; nothing when `data` does not read (then nothing of it is
    public: an error about it may name none of it)."""
    try:
        return "\n".join(copied_in_clear(doc.obj) for doc in load_documents(data, "fuzz"))
    except SealkitError:
        return ""
