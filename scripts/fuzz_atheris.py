"""A longer, coverage-guided fuzzing run with atheris, for local use (not in CI; see docs/errors.md#fuzzing).

    pip install atheris
    python scripts/fuzz_atheris.py TARGET [-- LIBFUZZER_OPTIONS...]

TARGET: reader, seal, unseal, csi or lint. Inputs start from tests/fuzz/corpus/ (PLANTED replaced by the
planted value, as the hypothesis tests do). A crash (an exception other than sealkit's own errors) or the
planted value in an error message or a SealedSecret stops the run with the input that caused it: add that
input to tests/fuzz/corpus/ so the CI run replays it.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
PLANTED = "Pl4nted-S3cret-Xq7"
PLANTED_B64 = "UGw0bnRlZC1TM2NyZXQtWHE3"


def _check(text: str) -> None:
    if PLANTED in text or PLANTED_B64 in text:
        raise AssertionError(f"planted value in output: {text[:200]!r}")


def _reader_target() -> Callable[[bytes], None]:
    from sealkit.errors import SealkitError
    from sealkit.reading import Limits, load_documents

    def run(data: bytes) -> None:
        try:
            load_documents(data, "fuzz", limits=Limits(max_bytes=256 * 1024))
        except SealkitError as exc:
            _check(str(exc))

    return run


def _seal_target() -> Callable[[bytes], None]:
    from sealkit.documents import dump_yaml
    from sealkit.errors import SealkitError
    from sealkit.keygen import generate_key_pair
    from sealkit.keys import load_certificate
    from sealkit.reading import load_documents
    from sealkit.sealing import seal_secret

    cert = load_certificate(generate_key_pair(bits=2048).certificate_pem)

    def run(data: bytes) -> None:
        try:
            for doc in load_documents(data, "fuzz"):
                sealed = seal_secret(doc.obj, cert, namespace="team-a", where=doc.where)
                text = dump_yaml([sealed["spec"]["encryptedData"]])  # the template may hold copied metadata
                _check(text)
        except SealkitError as exc:
            _check(str(exc))

    return run


def _unseal_target() -> Callable[[bytes], None]:
    from sealkit.errors import SealkitError
    from sealkit.keygen import generate_key_pair
    from sealkit.keys import KeyRing
    from sealkit.reading import load_documents
    from sealkit.unsealing import unseal

    ring = KeyRing([generate_key_pair(bits=2048).key])

    def run(data: bytes) -> None:
        try:
            for doc in load_documents(data, "fuzz"):
                unseal(doc.obj, ring, where=doc.where)
        except SealkitError as exc:
            _check(str(exc))

    return run


def _csi_target() -> Callable[[bytes], None]:
    from sealkit.csi.spec import parse_spec
    from sealkit.errors import SealkitError

    def run(data: bytes) -> None:
        with contextlib.suppress(SealkitError, UnicodeDecodeError):
            parse_spec(data.decode("utf-8"), Path("/nonexistent/sealkit-csi.yaml"), check_bases=False)

    return run


def _lint_target() -> Callable[[bytes], None]:
    from sealkit.lint.config import LintConfig
    from sealkit.lint.scanner import lint

    folder = Path(tempfile.mkdtemp(prefix="fuzz-lint-"))

    def run(data: bytes) -> None:
        (folder / "input.yaml").write_bytes(data)
        for finding in lint([folder], LintConfig(root=folder)).findings:
            _check(finding.message)

    return run


TARGETS: dict[str, Callable[[], Callable[[bytes], None]]] = {
    "reader": _reader_target,
    "seal": _seal_target,
    "unseal": _unseal_target,
    "csi": _csi_target,
    "lint": _lint_target,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [-- libFuzzer options]")
    try:
        import atheris  # type: ignore[import-not-found]  # local use only
    except ImportError:
        sys.exit("atheris is not installed here: pip install atheris (see docs/errors.md#fuzzing)")

    name = sys.argv[1]
    options = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    seeds = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    for path in CORPUS.iterdir():
        if path.is_file() and path.name != "README.md":
            (seeds / path.name).write_bytes(path.read_bytes().replace(b"PLANTED", PLANTED.encode()))
    with atheris.instrument_imports():
        target = TARGETS[name]()

    def one(data: bytes) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            target(data)

    atheris.Setup([sys.argv[0], *options, str(seeds)], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
