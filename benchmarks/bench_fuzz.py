"""The fuzz counts of issue #16, re-measured: malformed inputs through `seal`, `unseal`, the CSI spec loader
and `lint`, counting uncaught exceptions, outputs or errors holding a planted plaintext value, and slow
inputs (over 5 s: the issue's "hangs"). The inputs are tests/fuzz's (tests/support/fuzzing.py: the seeded
corpus, byte- and token-level mutations, Secret-shaped objects with the planted value anywhere), drawn by
hypothesis with a larger budget than CI's; the body counts instead of asserting.

Run: flock /tmp/sealkit-heavy.lock .venv/bin/python benchmarks/bench_fuzz.py [--examples N]
Targets: 0 uncaught exceptions, 0 plaintext leaks, 0 hangs for every target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support: the strategies CI's fuzz tests use

from sealkit.csi.spec import parse_spec  # noqa: E402
from sealkit.errors import SealkitError  # noqa: E402
from sealkit.keygen import generate_key_pair  # noqa: E402
from sealkit.keys import load_certificate  # noqa: E402
from sealkit.lint.config import LintConfig  # noqa: E402
from sealkit.lint.scanner import lint  # noqa: E402
from sealkit.sealing import seal_secret  # noqa: E402
from sealkit_cli.main import cli  # noqa: E402
from tests.support.fuzzing import (  # noqa: E402
    INPUTS,
    PLANTED,
    SEEDS,
    copied_fields,
    copied_in_clear,
    leaks,
    leaks_beyond,
    mutated,
    secrets,
)

HANG_SECONDS = 5.0
# The figures before the bounded reader and the shared validation (malformed inputs tried, uncaught
# exceptions, leaks of the planted value, hangs).
BEFORE = {
    "seal": "48,205 inputs: 1,916 uncaught, 716 leaks",
    "csi spec": "23 uncaught, 18 hangs",
    "lint": "6 uncaught (one bad file ended the report)",
    "unseal": "3,275 inputs: 0 uncaught",
}


@dataclass
class Count:
    runs: int = 0
    uncaught: int = 0
    leaks: int = 0
    hangs: int = 0
    slowest: float = 0.0
    first: str = ""

    def note(self, seconds: float, uncaught: str = "", leaked: str = "") -> None:
        self.runs += 1
        self.slowest = max(self.slowest, seconds)
        self.hangs += seconds > HANG_SECONDS
        if uncaught:
            self.uncaught += 1
            self.first = self.first or uncaught
        if leaked:
            self.leaks += 1
            self.first = self.first or leaked


def run_counted(strategy: st.SearchStrategy[Any], body: Callable[[Any], tuple[str, str]], examples: int) -> Count:
    """`body` over `examples` derandomized draws of `strategy`; it returns (uncaught, leaked) descriptions."""
    count = Count()

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def each(value: Any) -> None:
        started = time.perf_counter()
        try:
            uncaught, leaked = body(value)
        except Exception as exc:
            uncaught, leaked = f"{type(exc).__name__}", ""
        count.note(time.perf_counter() - started, uncaught, leaked)

    each()
    return count


def cli_outcome(
    args: list[str], data: bytes, expected: tuple[int, ...], public: str = "", errors_public: str = ""
) -> tuple[str, str]:
    """An uncaught exception, a traceback, a multi-line or unexpected error; the planted value in any output
    (except in a field the input made public: what `seal` copies in clear, and in errors the data keys it names)."""
    result = CliRunner().invoke(cli, args, input=data, env={"KUBECONFIG": "/nonexistent"})
    if not isinstance(result.exception, SystemExit | None):
        return f"{type(result.exception).__name__}", ""
    if result.exit_code not in expected:
        return f"exit {result.exit_code}", ""
    if result.exit_code != 0:
        lines = result.stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in result.output:
            return "not one error line", ""
    if leaks_beyond(result.stderr, errors_public) or (leaks(result.stdout) and not leaks(public)):
        return "", "planted value in the output"
    return "", ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="inputs per target (CI's tests use 300)")
    examples = parser.parse_args().examples
    folder = Path(tempfile.mkdtemp(prefix="bench-fuzz-"))
    pair = generate_key_pair(bits=2048)
    key, cert = folder / "key.pem", folder / "cert.pem"
    key.write_bytes(pair.private_pem)
    cert.write_bytes(pair.certificate_pem)
    certificate = load_certificate(pair.certificate_pem)
    sealed = yaml.safe_dump(
        seal_secret(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "team-a"},
             "stringData": {"password": PLANTED}},
            certificate,
        )
    ).encode()  # fmt: skip

    def seal_object(obj: Any) -> tuple[str, str]:
        try:
            out = seal_secret(obj, certificate, where="fuzz.yaml document 1")
        except SealkitError as exc:
            return ("", "planted value in the error") if leaks_beyond(str(exc), copied_in_clear(obj)) else ("", "")
        template = out["spec"]["template"]
        if not isinstance(template["type"], str) or not isinstance(template.get("immutable", False), bool):
            return "", "unchecked field copied"
        return (
            ("", "planted value in the output")
            if leaks(json.dumps(out)) and not leaks(copied_in_clear(obj))
            else ("", "")
        )

    def seal_command(data: bytes) -> tuple[str, str]:
        public = copied_fields(data)
        return cli_outcome(["seal", "--cert", str(cert), "-n", "team-a"], data, (0, 2), public, public)

    def unseal_command(data: bytes) -> tuple[str, str]:
        # Opening a valid SealedSecret prints its plaintext by design: only errors are checked for it.
        result = cli_outcome(["unseal", "--private-key", str(key)], data, (0, 2), PLANTED)
        return result

    spec_seeds = {name: data for name, data in SEEDS.items() if name in ("spec.yaml", "bomb.yaml", "nested.yaml")}

    def csi_spec(data: bytes) -> tuple[str, str]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return "", ""
        try:
            parse_spec(text, Path("/nonexistent/sealkit-csi.yaml"), check_bases=False)
        except SealkitError as exc:
            if "\n" in str(exc):
                return "not one error line", ""
            return ("", "planted value in the error") if leaks(str(exc)) else ("", "")
        return "", ""

    def lint_files(files: list[bytes]) -> tuple[str, str]:
        with tempfile.TemporaryDirectory() as where:
            root = Path(where)
            for i, data in enumerate(files):
                (root / f"f{i}.yaml").write_bytes(data)
            report = lint([root], LintConfig(root=root))
        if report.files != len(files):
            return "a file left out of the report", ""
        if any(leaks(finding.message) for finding in report.findings):
            return "", "planted value in a finding"
        return "", ""

    targets: list[tuple[str, st.SearchStrategy[Any], Callable[[Any], tuple[str, str]]]] = [
        ("seal", st.one_of(INPUTS, secrets.map(lambda o: yaml.safe_dump(o).encode())), seal_command),
        ("seal (objects)", secrets, seal_object),
        ("unseal", st.one_of(INPUTS, st.just(sealed)), unseal_command),
        ("csi spec", mutated(spec_seeds), csi_spec),
        ("lint", st.lists(INPUTS, min_size=1, max_size=3), lint_files),
    ]
    print(
        f"{'target':<16}{'inputs':>8}{'uncaught':>10}{'leaks':>7}{'hangs':>7}{'slowest':>9}   target   before (issue)"
    )
    for name, strategy, body in targets:
        count = run_counted(strategy, body, examples)
        met = "met" if count.uncaught == count.leaks == count.hangs == 0 else f"MISSED ({count.first})"
        print(
            f"{name:<16}{count.runs:>8,}{count.uncaught:>10}{count.leaks:>7}{count.hangs:>7}{count.slowest:>8.2f}s"
            f"   0/0/0: {met}   {BEFORE.get(name, '')}"
        )


if __name__ == "__main__":
    main()
