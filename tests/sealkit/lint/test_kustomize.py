"""What a kustomization's configMapGenerator `files` carry: ConfigMap data, often Helm values a HelmRelease reads
through `valuesFrom`, whatever the file's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealkit.lint.config import LintConfig
from sealkit.lint.scanner import lint

VALUES = """\
replicaCount: 2
extraObjects:
  - apiVersion: v1
    kind: Secret
    metadata: {name: web-db}
    stringData:
      password: not-a-real-value
"""


def kustomization(root: Path, files: str) -> None:
    (root / "kustomization.yaml").write_text(
        f"namespace: shop\nconfigMapGenerator:\n  - name: web-values\n    files:\n      - {files}\n"
    )


def found(root: Path) -> list[tuple[str, int, str, str]]:
    report = lint([root], LintConfig(root=root), all_files=True)
    return [(Path(f.path).name, f.line, f.rule.id, f.message) for f in report.findings]


@pytest.mark.parametrize("entry", ["values.yaml=web-values.txt", "web-values.txt", "values=web-values"])
def test_a_secret_in_values_a_configmap_generator_reads_is_found(tmp_path: Path, entry: str) -> None:
    """A file named anything but .yaml/.json was read for private keys only: the Secret Helm renders from the
    values went through."""
    name = entry.partition("=")[2] or entry
    (tmp_path / name).write_text(VALUES)
    kustomization(tmp_path, entry)
    key = entry.partition("=")[0] if "=" in entry else name
    assert found(tmp_path) == [
        (
            name,
            6,
            "SK101",
            "Secret web-db has stringData in plain text (base64 is an encoding, not encryption) (inside "
            f"extraObjects[0] of configMapGenerator web-values (in {tmp_path / 'kustomization.yaml'}) {key})",
        )
    ]


def test_a_yaml_values_file_is_reported_once_where_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text(VALUES)
    kustomization(tmp_path, "values.yaml")
    assert [(f[0], f[1], f[2]) for f in found(tmp_path)] == [("values.yaml", 6, "SK101")]


def test_a_credential_in_a_configmap_generator_file_is_configmap_data(tmp_path: Path) -> None:
    (tmp_path / "db.conf").write_text("url = postgres://orders:not-a-real-pw@db:5432/orders\n")
    kustomization(tmp_path, "db.conf")
    assert [(f[0], f[2]) for f in found(tmp_path)] == [("db.conf", "SK502")]
    (tmp_path / "db.conf").write_text("url = postgres://db:5432/orders\n")
    assert found(tmp_path) == []
