"""The kubeconfig's credential plugin (`users[].user.exec`, e.g. kubelogin on AKS): the Kubernetes library
logs a failing plugin on the root logger (`ERROR:root:...` on stderr) and goes on without a credential; it is
one line naming the plugin instead, and a plugin that answers is used as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sealkit.clients.kube.config import load_configuration
from sealkit.errors import InputError

TOKEN = "made-up-token-4f1c"


def kubeconfig(tmp_path: Path, command: str) -> Path:
    body = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": command, "interactiveMode": "Never"}}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }  # fmt: skip
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(body))
    return path


def plugin(tmp_path: Path, script: str) -> str:
    path = tmp_path / "plugin"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(
    ("script", "why"),
    [
        (None, "not found"),
        ("echo 'token expired, log in again' >&2; exit 1", "it gave no usable credential"),
        ("echo '{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"kind\": \"ExecCredential\"}'",
         "it gave no usable credential"),
    ],
)  # fmt: skip
def test_a_failing_credential_plugin_is_one_line_naming_it(tmp_path: Path, script: str | None, why: str) -> None:
    command = str(tmp_path / "kubelogin-absent") if script is None else plugin(tmp_path, script)
    path = kubeconfig(tmp_path, command)
    with pytest.raises(InputError) as refused:
        load_configuration(str(path))
    assert str(refused.value) == (
        f"cannot use the kubeconfig: its credential plugin {command} failed ({why}): kubeconfig {path}"
    )
    assert "token expired" not in str(refused.value), "never the plugin's own output"


def test_a_plugin_that_answers_gives_its_token(tmp_path: Path) -> None:
    answer = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
              "status": {"token": TOKEN}}  # fmt: skip
    path = kubeconfig(tmp_path, plugin(tmp_path, f"echo '{json.dumps(answer)}'"))
    configuration = load_configuration(str(path))
    assert configuration.api_key["BearerToken"] == f"Bearer {TOKEN}"


def test_the_cli_prints_one_line_and_no_root_logger_line(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, str(tmp_path / "kubelogin-absent"))
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {k: v}\n"
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "seal", "--kubeconfig", str(path)],
        input=secret, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot use the kubeconfig: its credential plugin {tmp_path}/kubelogin-absent failed (not found): "
        f"kubeconfig {path}\n"
    )


@pytest.mark.parametrize(
    ("section", "entry"),
    [
        ("cluster", {"certificate-authority": "ca.pem"}),
        ("user", {"client-certificate": "c.pem", "client-key": "k.pem"}),
    ],
)
def test_a_file_the_kubeconfig_names_that_is_missing_is_named(
    tmp_path: Path, section: str, entry: dict[str, str]
) -> None:
    """The library's 'File does not exist: P' (its words, capitalised, mid-line) reads as ours."""
    missing = tmp_path / "gone"
    body = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    target = body["clusters" if section == "cluster" else "users"][0][section]  # type: ignore[index]
    target.update({key: str(missing / name) for key, name in entry.items()})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(body))
    with pytest.raises(InputError) as refused:
        load_configuration(str(path))
    first = missing / next(iter(entry.values()))
    assert (
        str(refused.value) == f"cannot use the kubeconfig: a file it names does not exist ({first}): kubeconfig {path}"
    )
