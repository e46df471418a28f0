"""kubeseal's documented usages, run as written with `kubeseal` = `sealkit kubeseal`, checked structurally.

The command lines are those of bitnami-labs/sealed-secrets' README (Usage, Public key / Certificate,
Scopes, Update existing secrets, Raw mode, Validate, Re-encryption, FAQ), docs/GKE.md,
docs/bring-your-own-certificates.md, docs/examples/config-template and the Helm chart's README. Every
SealedSecret made opens with the matching private key (the core's unseal); cluster-facing lines run
against the real controller on the Kubernetes emulator, reached through the API server's service proxy.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.keygen import GeneratedKey
from sealkit.keysecrets import key_secret_manifest
from tests.support.cluster import CONTROLLER_NS, Cluster
from tests.support.fileserver import serving
from tests.support.kubeseal import SERVICE, Shell, expose
from tests.support.sealed import opened, opened_raw, ring

pytestmark = pytest.mark.usefixtures("shell")

CLUSTER_WIDE = {"sealedsecrets.bitnami.com/cluster-wide": "true"}
NAMESPACE_WIDE = {"sealedsecrets.bitnami.com/namespace-wide": "true"}


@pytest.fixture()
def offline(shell: Shell, vectors: dict[str, Any]) -> Shell:
    """The shell with the vectors' key 0 as mycert.pem / file1.key (and key 1 as file2.key), no cluster."""
    shell.path("mycert.pem").write_text(vectors["keys"][0]["cert_pem"])
    shell.path("file1.key").write_text(vectors["keys"][0]["private_pem"])
    shell.path("file2.key").write_text(vectors["keys"][1]["private_pem"])
    shell.path("secret.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "mysecret", "namespace": "myns"},
                "stringData": {"password": "s3cret"},
            }
        )
    )
    return shell


def one_error_line(stderr: str) -> bool:
    """sealkit's error style: one line starting with "error:" (any case until #16's single style lands)."""
    lines = stderr.splitlines()
    return len(lines) == 1 and lines[0].lower().startswith("error: ") and "Traceback" not in stderr


def key0(vectors: dict[str, Any]) -> Any:
    return ring(vectors["keys"][0]["private_pem"])


def load_json(path: Path) -> dict[str, Any]:
    text = path.read_text()
    assert text.lstrip().startswith("{"), "JSON, as kubeseal writes by default"
    obj = json.loads(text)
    assert obj["apiVersion"] == "bitnami.com/v1alpha1" and obj["kind"] == "SealedSecret"
    return dict(obj)


# --- README "Usage" -----------------------------------------------------------------------------------


def test_usage_secret_file_to_sealed_secret_file(offline: Shell, vectors: dict[str, Any]) -> None:
    offline.run(
        "echo -n bar | kubectl create secret generic mysecret --dry-run=client --from-file=foo=/dev/stdin "
        "-o json >mysecret.json\n"
        "kubeseal -f mysecret.json -w mysealedsecret.json",
        env={"SEALED_SECRETS_CERT": "mycert.pem"},  # README: "It also recognizes the SEALED_SECRETS_CERT env var"
    )
    sealed = load_json(offline.path("mysealedsecret.json"))
    # No namespace in the Secret, no -n, no kubeconfig: kubectl's "default".
    assert sealed["metadata"] == {"name": "mysecret", "namespace": "default"}
    assert "annotations" not in sealed["metadata"], "strict scope"
    assert opened(sealed, key0(vectors)) == {"foo": b"bar"}


def test_offline_cert_file(offline: Shell, vectors: dict[str, Any]) -> None:
    out = offline.run("kubeseal --cert mycert.pem <secret.yaml").stdout
    sealed = json.loads(out)
    assert sealed["metadata"]["namespace"] == "myns" and opened(sealed, key0(vectors)) == {"password": b"s3cret"}
    same = offline.run("kubeseal --cert=mycert.pem <secret.yaml").stdout  # docs/GKE.md spelling
    assert json.loads(same)["spec"]["encryptedData"].keys() == {"password"}


@pytest.fixture()
def cert_url(offline: Shell) -> Iterator[str]:
    """The certificate published over HTTP, as the README's intranet example does."""
    with serving("/sealed-secrets/your-cluster.cert", offline.path("mycert.pem").read_bytes()) as url:
        yield f"{url}/sealed-secrets/your-cluster.cert"


def test_cert_url(offline: Shell, cert_url: str, vectors: dict[str, Any]) -> None:
    sealed = json.loads(offline.run(f"kubeseal --cert {cert_url} <secret.yaml").stdout)
    assert opened(sealed, key0(vectors)) == {"password": b"s3cret"}
    missing = offline.run(f"kubeseal --cert {cert_url}.missing <secret.yaml", check=False)
    assert missing.returncode == 2 and missing.stdout == ""
    assert one_error_line(missing.stderr) and "HTTP 404" in missing.stderr


# --- README "Scopes" -----------------------------------------------------------------------------------


def test_scope_flag(offline: Shell, vectors: dict[str, Any]) -> None:
    offline.run(
        "kubeseal --cert mycert.pem --scope cluster-wide <secret.yaml >sealed-secret.json\n"
        "kubeseal --cert mycert.pem --scope namespace-wide <secret.yaml >output-sealed-secret.json"
    )
    cluster_wide = load_json(offline.path("sealed-secret.json"))
    assert cluster_wide["metadata"]["annotations"] == CLUSTER_WIDE
    assert opened(cluster_wide, key0(vectors), name="other", namespace="elsewhere") == {"password": b"s3cret"}
    namespace_wide = load_json(offline.path("output-sealed-secret.json"))
    assert namespace_wide["metadata"]["annotations"] == NAMESPACE_WIDE
    assert opened(namespace_wide, key0(vectors), name="renamed") == {"password": b"s3cret"}


@pytest.mark.parametrize(("annotations", "expected"), [(NAMESPACE_WIDE, NAMESPACE_WIDE), (CLUSTER_WIDE, CLUSTER_WIDE)])
def test_scope_from_the_input_secrets_annotations(
    offline: Shell, vectors: dict[str, Any], annotations: dict[str, str], expected: dict[str, str]
) -> None:
    secret = yaml.safe_load(offline.path("secret.yaml").read_text())
    secret["metadata"]["annotations"] = {**annotations, "team": "a"}
    offline.path("annotated.yaml").write_text(yaml.safe_dump(secret))
    sealed = json.loads(offline.run("kubeseal --cert mycert.pem <annotated.yaml").stdout)
    assert sealed["metadata"]["annotations"] == expected
    assert sealed["spec"]["template"]["metadata"]["annotations"] == {"team": "a"}
    assert opened(sealed, key0(vectors), name="moved") == {"password": b"s3cret"}
    # kubeseal cannot tell a given --scope strict from its default and seals for the annotation's wider scope:
    # sealkit refuses the contradiction instead of widening what was asked for.
    strict = offline.run("kubeseal --cert mycert.pem --scope strict <annotated.yaml", check=False)
    assert strict.returncode == 2 and strict.stdout == ""
    assert one_error_line(strict.stderr) and "--scope strict, but the Secret's annotation makes it" in strict.stderr


# --- README "Update existing secrets" and docs/examples/config-template ---------------------------------


def test_merge_into_keeps_the_file_json(offline: Shell, vectors: dict[str, Any]) -> None:
    offline.run(
        "echo -n bar | kubectl create secret generic mysecret --dry-run=client --from-file=foo=/dev/stdin -o json \\\n"
        "  | kubeseal > mysealedsecret.json\n"
        "echo -n baz | kubectl create secret generic mysecret --dry-run=client --from-file=bar=/dev/stdin -o json \\\n"
        "  | kubeseal --merge-into mysealedsecret.json",
        env={"SEALED_SECRETS_CERT": "mycert.pem"},
    )
    sealed = load_json(offline.path("mysealedsecret.json"))
    assert sorted(sealed["spec"]["encryptedData"]) == ["bar", "foo"]
    assert opened(sealed, key0(vectors)) == {"foo": b"bar", "bar": b"baz"}


def test_merge_into_a_yaml_sealed_secret_with_a_template(offline: Shell, vectors: dict[str, Any]) -> None:
    offline.run(
        "echo -n foo | kubectl create secret generic example --dry-run=client --from-file=server0=/dev/stdin -o json"
        " | kubeseal --cert mycert.pem -o yaml > sealedsecret.yaml"
    )
    path = offline.path("sealedsecret.yaml")
    original = yaml.safe_load(path.read_text())
    original["spec"]["template"]["data"] = {"config.yaml": "servers: [{{ .server0 }}, {{ .server1 }}]"}
    path.write_text("# config-template example\n" + yaml.safe_dump(original))
    offline.run(
        "echo -n baz | kubectl create secret generic example --dry-run=client --from-file=server1=/dev/stdin "
        "-o json \\\n  | kubeseal --cert mycert.pem -o yaml --merge-into sealedsecret.yaml"
    )
    text = path.read_text()
    assert text.startswith("# config-template example\n"), "the file keeps its comments and YAML format"
    merged = yaml.safe_load(text)
    assert sorted(merged["spec"]["encryptedData"]) == ["server0", "server1"]
    data = opened(merged, key0(vectors))
    assert (data["server0"], data["server1"], data["config.yaml"]) == (b"foo", b"baz", b"servers: [foo, baz]")


# --- README "Raw mode" ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("echo -n foo | kubeseal --raw --namespace bar --name mysecret", b"bar/mysecret"),
        ("echo -n foo | kubeseal --raw --namespace bar --scope namespace-wide", b"bar"),
        ("echo -n foo | kubeseal --raw --scope cluster-wide", b""),
    ],
)
def test_raw_mode(offline: Shell, vectors: dict[str, Any], line: str, label: bytes) -> None:
    value = offline.run(line, env={"SEALED_SECRETS_CERT": "mycert.pem"}).stdout
    assert value.startswith("Ag") and "\n" not in value, "bare base64, no newline"
    assert opened_raw(value, key0(vectors), label) == b"foo"


def test_raw_from_file_uses_only_the_path(offline: Shell, vectors: dict[str, Any]) -> None:
    offline.path("value.txt").write_text("from-a-file")
    for flag in ("--from-file=ignored-key=value.txt", "--from-file value.txt"):
        value = offline.run(f"kubeseal --cert mycert.pem --raw --scope cluster-wide {flag}").stdout
        assert opened_raw(value, key0(vectors), b"") == b"from-a-file"


# --- README FAQ: several Secrets in one file; recovery with backed-up keys -------------------------------


def test_several_secrets_in_one_file(offline: Shell, vectors: dict[str, Any]) -> None:
    docs = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": n, "namespace": "myns"}, "stringData": {"k": n}}
        for n in ("one", "two")
    ]
    offline.path("many.yaml").write_text(yaml.safe_dump_all(docs))
    out = offline.run("kubeseal --cert mycert.pem <many.yaml").stdout
    decoder, pos, objects = json.JSONDecoder(), 0, []
    while pos < len(out.rstrip()):
        obj, pos = decoder.raw_decode(out, pos)
        objects.append(obj)
        while pos < len(out) and out[pos].isspace():
            pos += 1
    assert [o["metadata"]["name"] for o in objects] == ["one", "two"], "concatenated JSON objects"
    assert [opened(o, key0(vectors)) for o in objects] == [{"k": b"one"}, {"k": b"two"}]


def key_backup(keys: list[GeneratedKey], path: Path) -> None:
    """As the FAQ's `kubectl get secret -n kube-system -l ...sealed-secrets-key -o yaml >main.key`, then
    `echo "---" >> main.key` and the pre-0.9 `sealed-secrets-key` Secret appended."""
    listed = [key_secret_manifest(k, namespace=CONTROLLER_NS, prefix="sealed-secrets-key") for k in keys[:-1]]
    legacy = key_secret_manifest(keys[-1], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    legacy["metadata"]["name"] = "sealed-secrets-key"
    document = {"apiVersion": "v1", "kind": "List", "items": listed, "metadata": {"resourceVersion": ""}}
    path.write_text(yaml.safe_dump(document) + "---\n" + yaml.safe_dump(legacy))


def test_recovery_unseal_with_comma_separated_keys(offline: Shell, vectors: dict[str, Any]) -> None:
    offline.path("cert2.pem").write_text(vectors["keys"][1]["cert_pem"])
    offline.run("kubeseal --cert cert2.pem <secret.yaml >sealed.json")
    out = offline.run("kubeseal --recovery-unseal --recovery-private-key file1.key,file2.key < sealed.json").stdout
    secret = json.loads(out)
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"]) == (
        "Secret",
        "mysecret",
        "myns",
    )
    assert base64.b64decode(secret["data"]["password"]) == b"s3cret"
    repeated = offline.run(
        "kubeseal --recovery-unseal --recovery-private-key file1.key --recovery-private-key file2.key "
        "-f sealed.json -o yaml"
    ).stdout
    assert yaml.safe_load(repeated)["data"] == secret["data"]


def test_recovery_unseal_with_a_key_backup_list(offline: Shell, cluster_keys: list[GeneratedKey]) -> None:
    key_backup(cluster_keys, offline.path("main.key"))
    offline.path("newest.pem").write_text(cluster_keys[-1].certificate_pem.decode())
    offline.run("kubeseal --cert newest.pem <secret.yaml >sealed.json")
    out = offline.run("kubeseal --recovery-unseal --recovery-private-key main.key < sealed.json").stdout
    assert base64.b64decode(json.loads(out)["data"]["password"]) == b"s3cret"
    as_json = yaml.safe_load(offline.path("main.key").read_text().split("---\n")[0])
    offline.path("main.json").write_text(json.dumps(as_json))
    offline.path("oldest.pem").write_text(cluster_keys[0].certificate_pem.decode())
    offline.run("kubeseal --cert oldest.pem <secret.yaml >old.json")
    out = offline.run("kubeseal --recovery-unseal --recovery-private-key main.json < old.json").stdout
    assert base64.b64decode(json.loads(out)["data"]["password"]) == b"s3cret"


def test_version(offline: Shell) -> None:
    assert offline.run("kubeseal --version").stdout == "kubeseal version: 0.1.0\n"


# --- cluster-facing lines: the real controller on the emulator, through the service proxy ----------------


@pytest.fixture()
def online(shell: Shell, cluster: Cluster, controller: Any) -> Shell:
    shell.env["KUBECONFIG"] = str(cluster.kubeconfig)
    shell.path("mysecret.json").write_text(
        json.dumps(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mysecret"}, "stringData": {"foo": "bar"}}
        )
    )
    return shell


def test_fetch_cert_then_seal_offline(online: Shell, cluster: Cluster) -> None:
    online.run("kubeseal --fetch-cert >mycert.pem")
    assert online.path("mycert.pem").read_bytes() == cluster.keys[0].certificate_pem
    sealed = json.loads(
        online.run("kubeseal --cert mycert.pem <mysecret.json", env={"KUBECONFIG": "/nonexistent"}).stdout
    )
    assert opened(sealed, ring(cluster.keys[0].private_pem)) == {"foo": b"bar"}
    proxied = [
        r for r in cluster.kube.request_log if r.path.endswith(f"/services/http:{SERVICE}:http/proxy/v1/cert.pem")
    ]
    assert proxied, "fetched through the API server's service proxy"


def test_seal_with_the_clusters_cert_then_kubectl_create(online: Shell, cluster: Cluster) -> None:
    online.run("kubeseal -f mysecret.json -w mysealedsecret.json\nkubectl create -f mysealedsecret.json >/dev/null")
    sealed = load_json(online.path("mysealedsecret.json"))
    assert sealed["metadata"]["namespace"] == "default"
    assert cluster.wait(lambda: cluster.data("mysecret")) == {"foo": b"bar"}, "the real controller unsealed it"
    out = online.run("kubectl get secret mysecret -o json").stdout
    assert base64.b64decode(json.loads(out)["data"]["foo"]) == b"bar"


def test_bring_your_own_certificate_then_kubectl_apply(online: Shell, cluster: Cluster) -> None:
    online.path("mycert.crt").write_bytes(cluster.keys[0].certificate_pem)
    online.path("mysecret.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "byo", "namespace": "default"},
                "data": {"a": "Yg=="},
            }
        )
    )
    online.run(
        'PUBLICKEY=mycert.crt; kubeseal --cert "./${PUBLICKEY}" --scope cluster-wide < mysecret.yaml '
        "| kubectl apply -f- >/dev/null"
    )
    assert cluster.wait(lambda: cluster.data("byo")) == {"a": b"b"}


def test_controller_elsewhere_by_flag_and_environment(online: Shell, cluster: Cluster, controller: Any) -> None:
    expose(cluster, controller, "sealed-secrets", "sealed-secrets")
    expose(cluster, controller, "my-release", "my-release-namespace")
    online.run("kubeseal --controller-namespace sealed-secrets --controller-name sealed-secrets <mysecret.json >a.json")
    online.run(
        "export SEALED_SECRETS_CONTROLLER_NAMESPACE=sealed-secrets SEALED_SECRETS_CONTROLLER_NAME=sealed-secrets\n"
        "kubeseal <mysecret.json >b.json"
    )
    online.run(
        "kubeseal --fetch-cert \\\n--controller-name=my-release \\\n"
        "--controller-namespace=my-release-namespace \\\n> pub-cert.pem"
    )
    keys = ring(cluster.keys[0].private_pem)
    assert (
        opened(load_json(online.path("a.json")), keys)
        == opened(load_json(online.path("b.json")), keys)
        == {"foo": b"bar"}
    )
    assert online.path("pub-cert.pem").read_bytes() == cluster.keys[0].certificate_pem
    paths = {r.path for r in cluster.kube.request_log}
    assert "/api/v1/namespaces/sealed-secrets/services/http:sealed-secrets:http/proxy/v1/cert.pem" in paths
    assert "/api/v1/namespaces/my-release-namespace/services/http:my-release:http/proxy/v1/cert.pem" in paths
    wrong = online.run("kubeseal --controller-namespace nowhere <mysecret.json", check=False)
    assert wrong.returncode == 2 and wrong.stdout == "" and one_error_line(wrong.stderr)
    assert "no controller Service nowhere/sealed-secrets-controller" in wrong.stderr


def test_validate(online: Shell, cluster: Cluster) -> None:
    good = cluster.seal("mysecret", "mynamespace", {"foo": "bar"})
    bad = cluster.seal("other", "mynamespace", {"foo": "bar"}, key=1)  # a key the controller does not hold
    online.path("sealed-secrets.yaml").write_text(yaml.safe_dump(good))
    online.path("bad.yaml").write_text(yaml.safe_dump(bad))
    ok = online.run("cat sealed-secrets.yaml | kubeseal --validate")
    assert (ok.stdout, ok.stderr) == ("", "")
    refused = online.run("cat bad.yaml | kubeseal --validate", check=False)
    assert refused.returncode == 1 and refused.stdout == ""
    (line,) = refused.stderr.splitlines()
    assert one_error_line(refused.stderr) and line.startswith("error: does not open in the cluster (")
    assert line.endswith(": stdin document 1"), "a check that failed: exit 1, what then where"
    assert any(r.path.endswith("/proxy/v1/verify") for r in cluster.kube.request_log)


def test_re_encrypt(online: Shell, cluster: Cluster) -> None:
    old = cluster.seal("mysecret", "default", {"foo": "bar"})
    online.path("my_sealed_secret.json").write_text(json.dumps(old, indent=2))
    online.path("old.yaml").write_text("# keep me\n" + yaml.safe_dump(old))
    cluster.add_key(1)  # a newer key: the controller re-encrypts with it
    newest = ring(cluster.keys[1].private_pem)
    online.run(
        "kubeseal --re-encrypt <my_sealed_secret.json >tmp.json \\\n  && mv tmp.json my_sealed_secret.json",
    )
    rotated = load_json(online.path("my_sealed_secret.json"))
    assert rotated["spec"]["encryptedData"] != old["spec"]["encryptedData"]
    assert opened(rotated, newest) == {"foo": b"bar"}, "sealed with the newest key"
    online.run("kubeseal --re-encrypt <old.yaml >new.yaml")
    assert opened(load_json(online.path("new.yaml")), newest) == {"foo": b"bar"}, "stdout: JSON, as kubeseal"
    # Only -f: the file is rewritten in place, keeping its format, comments and layout.
    online.run("kubeseal --re-encrypt -f old.yaml")
    text = online.path("old.yaml").read_text()
    assert text.startswith("# keep me\napiVersion: bitnami.com/v1alpha1\n")
    assert opened(yaml.safe_load(text), newest) == {"foo": b"bar"}
    assert any(r.path.endswith("/proxy/v1/rotate") for r in cluster.kube.request_log)
