"""Generation: deterministic files, valid classes, correct patches, and staleness checks."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.csi import generate, rules
from sealkit.csi.generate import HEADER_PREFIX
from sealkit.csi.spec import load_spec

Spec = dict[str, Any]
KUBECTL = shutil.which("kubectl")


def build(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize` output as objects (kubectl is preinstalled; .ci/run installs it)."""
    assert KUBECTL, "kubectl is required for the kustomize tests (.ci/run installs it)"
    out = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def load(path: Path, relpath: str) -> dict[str, Any]:
    result: dict[str, Any] = yaml.safe_load((path.parent / relpath).read_text())
    return result


def test_same_spec_same_bytes(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    path = make_repo(spec_dict)
    first = generate.plan(load_spec(path))
    second = generate.plan(load_spec(path))
    assert first.files == second.files
    assert list(first.files) == sorted(first.files)
    written = generate.write(first)
    assert written.unchanged == [] and len(written.written) == len(first.files)
    again = generate.write(generate.plan(load_spec(path)))
    assert again.written == [] and len(again.unchanged) == len(first.files)


def test_every_file_names_the_spec(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    path = make_repo(spec_dict)
    plan = generate.plan(load_spec(path))
    for relpath, text in plan.files.items():
        first_line = text.splitlines()[0]
        assert first_line.startswith(HEADER_PREFIX)
        named = first_line.split(" from ", 1)[1].split(":", 1)[0]
        assert (path.parent / Path(relpath).parent / named).resolve() == path.resolve()


def test_generated_classes_pass_the_driver_rules(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    path = make_repo(spec_dict)
    plan = generate.plan(load_spec(path))
    generate.write(plan)
    classes = [(rel, load(path, rel)) for rel in plan.files if rel.endswith("secretproviderclass.yaml")]
    patches = [load(path, rel) for rel in plan.files if "/patch-" in rel]
    assert len(classes) == 2
    for rel, spc in classes:
        assert rules.spc_problems(spc) == [], rel
        assert all(isinstance(v, str) for v in spc["spec"]["parameters"].values())
    for env in ("dev", "prod"):
        in_env = [c for c in classes if f"/{env}/" in c[0]]
        assert rules.duplicate_sync_problems(in_env) == []
        env_patches = [
            p for p, rel in zip(patches, [r for r in plan.files if "/patch-" in r], strict=True) if f"/{env}/" in rel
        ]
        assert rules.unmounted_sync_problems(in_env, env_patches) == []
        assert all(rules.csi_volume_problems(p) == [] for p in env_patches)


def test_objects_parameter_round_trips(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    path = make_repo(spec_dict)
    plan = generate.plan(load_spec(path))
    prod = yaml.safe_load(plan.files["clusters/prod/apps/web/secretproviderclass.yaml"])
    items, problems = rules.parse_objects(prod["spec"]["parameters"]["objects"])
    assert problems == []
    assert items == [
        {
            "objectName": "db-password",
            "objectType": "secret",
            "objectAlias": "db.txt",
            "objectVersion": "0123456789abcdef0123456789abcdef",
        },
        {"objectName": "tls-cert", "objectType": "secret", "objectVersion": "", "objectFormat": "pem"},
        {"objectName": "signing", "objectType": "key", "objectVersion": "", "objectVersionHistory": 2},
    ]
    assert prod["spec"]["parameters"] == {
        "keyvaultName": "web-prod-kv",
        "tenantID": "11111111-2222-3333-4444-555555555555",
        "cloudName": "AzurePublicCloud",
        "useVMManagedIdentity": "true",
        "userAssignedIdentityID": "99999999-8888-4777-8666-555555555555",
        "objects": prod["spec"]["parameters"]["objects"],
    }
    assert "useVMManagedIdentity" not in plan.files["clusters/dev/apps/web/secretproviderclass.yaml"]
    assert 'objectVersion: ""' in plan.files["clusters/dev/apps/web/secretproviderclass.yaml"]


def test_azure_stack_cloud_names_its_environment_file(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    """AzureStackCloud's endpoints come from a file in the provider's pod: the class names it, and the class
    passes the checks lint makes (without cloudEnvFileName the provider cannot mount it)."""
    spec_dict["environments"]["prod"].update(cloud="AzureStackCloud", cloudEnvFile="/etc/kubernetes/azurestack.json")
    plan = generate.plan(load_spec(make_repo(spec_dict)))
    text = plan.files["clusters/prod/apps/web/secretproviderclass.yaml"]
    parameters = yaml.safe_load(text)["spec"]["parameters"]
    assert parameters["cloudName"] == "AzureStackCloud"
    assert parameters["cloudEnvFileName"] == "/etc/kubernetes/azurestack.json"
    assert "cloudEnvFileName" not in plan.files["clusters/dev/apps/web/secretproviderclass.yaml"]
    assert rules.spc_problems(yaml.safe_load(text)) == []


def test_built_workloads_are_wired(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    path = make_repo(spec_dict)
    generate.write(generate.plan(load_spec(path)))
    dev = build(path.parent / "clusters/dev/apps")
    web = by_kind(dev, "Deployment", "web")["spec"]["template"]["spec"]
    assert web["serviceAccountName"] == "web"
    assert web["volumes"] == [
        {
            "name": "secrets-store-inline",
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": True,
                "volumeAttributes": {"secretProviderClass": "web"},
            },
        }
    ]
    app, proxy = web["containers"]
    assert app["volumeMounts"] == [
        {"name": "secrets-store-inline", "mountPath": "/mnt/secrets-store", "readOnly": True}
    ]
    assert {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "password"}}} in app["env"]
    assert {"name": "LOG_LEVEL", "value": "info"} in app["env"]
    assert "volumeMounts" not in proxy and "env" not in proxy
    job = by_kind(dev, "CronJob", "nightly")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["volumeMounts"][0]["mountPath"] == "/secrets"
    assert by_kind(dev, "ServiceAccount", "web")["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    }
    prod = build(path.parent / "clusters/prod/apps")
    prod_web = by_kind(prod, "Deployment", "web")["spec"]["template"]["spec"]
    assert "serviceAccountName" not in prod_web
    assert not [o for o in prod if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "web"]
    assert by_kind(prod, "SecretProviderClass", "web")["metadata"]["namespace"] == "team"


def test_service_principal_wiring_and_existing_account(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    spec_dict["environments"]["prod"]["identity"] = {"servicePrincipal": None}
    spec_dict["applications"]["web"]["serviceAccount"] = {"name": "web-existing", "create": False}
    path = make_repo(spec_dict)
    plan = generate.plan(load_spec(path))
    assert [c.path for c in plan.credentials] == [
        "clusters/prod/apps/credentials/team.secrets-store-creds.sealedsecret.yaml"
    ]
    patch = yaml.safe_load(plan.files["clusters/prod/apps/web/patch-deployment-web.yaml"])
    volume = patch["spec"]["template"]["spec"]["volumes"][0]
    assert volume["csi"]["nodePublishSecretRef"] == {"name": "secrets-store-creds"}
    root = yaml.safe_load(plan.files["clusters/prod/apps/kustomization.yaml"])
    assert root["resources"] == ["web", "credentials/team.secrets-store-creds.sealedsecret.yaml"]
    dev_app = yaml.safe_load(plan.files["clusters/dev/apps/web/kustomization.yaml"])
    assert dev_app["patches"][0] == {"path": "patch-serviceaccount.yaml"}
    assert "clusters/dev/apps/web/serviceaccount.yaml" not in plan.files
    result = generate.write(plan)
    assert result.credential_problems == [
        "clusters/prod/apps/credentials/team.secrets-store-creds.sealedsecret.yaml is missing: "
        "run `sealkit csi seal-creds --env prod`"
    ]


def test_check_reports_edits_stale_files_and_missing_output(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    path = make_repo(spec_dict)
    missing = generate.check(generate.plan(load_spec(path)))
    assert not missing.ok and len(missing.diffs) == len(generate.plan(load_spec(path)).files)
    generate.write(generate.plan(load_spec(path)))
    assert generate.check(generate.plan(load_spec(path))).ok

    spc = path.parent / "clusters/dev/apps/web/secretproviderclass.yaml"
    spc.write_text(spc.read_text().replace("web-dev-kv", "hand-edited"))
    edited = generate.check(generate.plan(load_spec(path)))
    assert len(edited.diffs) == 1
    assert "-    keyvaultName: hand-edited" in edited.diffs[0] and "+    keyvaultName: web-dev-kv" in edited.diffs[0]

    generate.write(generate.plan(load_spec(path)))
    del spec_dict["applications"]["web"]["workloads"][1]
    path.write_text(yaml.safe_dump(spec_dict, sort_keys=False))
    stale = generate.check(generate.plan(load_spec(path)))
    assert stale.stale == [
        "clusters/dev/apps/web/patch-cronjob-nightly.yaml",
        "clusters/prod/apps/web/patch-cronjob-nightly.yaml",
    ]
    user_file = path.parent / "clusters/dev/apps/web/notes.txt"
    user_file.write_text("kept\n")
    result = generate.write(generate.plan(load_spec(path)))
    assert result.deleted == stale.stale
    assert user_file.exists() and not (path.parent / stale.stale[0]).exists()
    assert generate.check(generate.plan(load_spec(path))).ok


def test_a_file_generate_did_not_write_is_not_replaced(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    """A hand-written kustomization.yaml where generate writes one (no header line) was replaced without a word,
    its other resources lost: now refused by name, nothing written; --check names it too."""
    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    hand = path.parent / "clusters/dev/apps/kustomization.yaml"
    hand.parent.mkdir(parents=True)
    hand.write_text("resources: [web, ../monitoring]\n")
    before = tree(path.parent)
    plan = generate.plan(load_spec(path))
    checked = generate.check(plan)
    assert checked.foreign == [("clusters/dev/apps/kustomization.yaml", generate.FOREIGN)] and not checked.ok
    with pytest.raises(InputError) as err:
        generate.write(plan)
    assert str(err.value) == f"{generate.FOREIGN}: clusters/dev/apps/kustomization.yaml"
    assert tree(path.parent) == before
    hand.unlink()
    generate.write(generate.plan(load_spec(path)))
    assert generate.check(generate.plan(load_spec(path))).ok


def test_another_specs_files_are_neither_deleted_nor_written_over(
    spec_dict: Spec, make_repo: Callable[[Spec], Path]
) -> None:
    """Two specs in one repo, one's overlays inside the other's: generate deleted the other spec's files as
    stale (they bore the generated header); now only files whose header names this spec are its own, and a
    file another spec generated where this one would write is refused by name."""
    import copy

    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    other = copy.deepcopy(spec_dict)
    for env in other["environments"].values():
        env["overlay"] += "/team-b"
    other_path = path.parent / "team-b.yaml"
    other_path.write_text(yaml.safe_dump(other, sort_keys=False))
    generate.write(generate.plan(load_spec(path)))
    written = generate.write(generate.plan(load_spec(other_path))).written
    assert written and all(
        rel.startswith(("clusters/dev/apps/team-b/", "clusters/prod/apps/team-b/")) for rel in written
    )
    again = generate.write(generate.plan(load_spec(path)))
    assert again.deleted == [] and again.written == []
    assert all((path.parent / rel).exists() for rel in written)
    assert generate.check(generate.plan(load_spec(path))).ok
    assert generate.check(generate.plan(load_spec(other_path))).ok

    other["environments"]["dev"]["overlay"] = spec_dict["environments"]["dev"]["overlay"]  # one file, two specs
    other_path.write_text(yaml.safe_dump(other, sort_keys=False))
    plan = generate.plan(load_spec(other_path), ["dev"])
    assert ("clusters/dev/apps/kustomization.yaml", generate.OTHER_SPEC) in generate.check(plan).foreign
    with pytest.raises(InputError, match="a file generated from another spec is where this spec would write"):
        generate.write(plan)


def test_env_filter(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    plan = generate.plan(load_spec(make_repo(spec_dict)), ["prod"])
    assert plan.files and all(rel.startswith("clusters/prod/") for rel in plan.files)
    with pytest.raises(Exception, match="unknown environment 'qa'"):
        generate.plan(load_spec(make_repo(spec_dict)), ["qa"])


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file and directory under `root`: relative path -> bytes (None for a directory)."""
    return {p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def test_a_file_that_cannot_be_written_leaves_every_file_as_it_was(
    spec_dict: Spec, make_repo: Callable[[Spec], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three files to rewrite and one to create; the third rewrite hits a full disk (simulated) after part of
    its bytes. The line names that file by its path in the repo, and the others are put back (were: the first
    files rewritten, the rest not, a config repo half regenerated)."""
    import errno
    import os

    from sealkit import filewrites
    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    root = path.parent
    generate.write(generate.plan(load_spec(path)))
    relpaths = list(generate.plan(load_spec(path)).files)[:4]
    for relpath in relpaths[:3]:
        (root / relpath).write_text((root / relpath).read_text() + "# hand-edited\n")
    (root / relpaths[3]).unlink()
    before = tree(root)
    failing = root / relpaths[2]
    real = filewrites._overwrite

    def full(fd: int, data: bytes) -> None:
        if Path(f"/proc/self/fd/{fd}").readlink() == failing and b"# hand-edited" not in data:
            real(fd, data[: len(data) // 2])  # cut short, as a full disk does
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    monkeypatch.setattr(filewrites, "_overwrite", full)
    with pytest.raises(InputError) as caught:
        generate.write(generate.plan(load_spec(path)))
    assert str(caught.value) == f"cannot write (no space left on device): {relpaths[2]}"
    assert tree(root) == before, "every file as it was: edits back, the new file gone, no temporary file"

    monkeypatch.setattr(filewrites, "_overwrite", real)
    result = generate.write(generate.plan(load_spec(path)))
    assert result.written == relpaths and generate.check(generate.plan(load_spec(path))).ok


def test_a_directory_that_cannot_be_made_leaves_nothing_written(
    spec_dict: Spec, make_repo: Callable[[Spec], Path]
) -> None:
    """A file where the prod overlay goes (also as root): the dev files come first, yet none is written and
    the directories made for them are removed again (were: dev written, then 'cannot write (File exists)')."""
    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    root = path.parent
    (root / "clusters").mkdir()
    (root / "clusters/prod").write_text("a file, not a directory\n")
    before = tree(root)
    plan = generate.plan(load_spec(path))
    first_prod = next(rel for rel in plan.files if rel.startswith("clusters/prod/"))
    with pytest.raises(InputError) as caught:
        generate.write(plan)
    assert tree(root) == before, "no dev file, no directory made for one"
    assert str(caught.value) == f"cannot create directory {root / 'clusters/prod'} (a file is in the way): {first_prod}"


def test_a_generated_path_that_is_a_directory_is_named_before_anything_is_written(
    spec_dict: Spec, make_repo: Callable[[Spec], Path]
) -> None:
    """A directory where the third generated file goes (EISDIR, also as root): nothing written."""
    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    root = path.parent
    plan = generate.plan(load_spec(path))
    third = list(plan.files)[2]
    (root / third).mkdir(parents=True)
    before = tree(root)
    with pytest.raises(InputError) as caught:
        generate.write(plan)
    assert tree(root) == before, "the first two files are not written"
    assert str(caught.value) == f"cannot read (is a directory): {third}"


def test_a_generated_file_linked_out_of_the_repo_is_refused_by_write_and_check(
    spec_dict: Spec, make_repo: Callable[[Spec], Path], tmp_path: Path
) -> None:
    """A generated file that is a symbolic link leading out of the repo was rewritten out there (the repo
    commits only the link, kustomize refuses it) and compared by --check as if it were the repo's."""
    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    root = path.parent
    plan = generate.plan(load_spec(path))
    generate.write(plan)
    first = next(iter(plan.files))
    outside = tmp_path / "elsewhere.yaml"
    (root / first).rename(outside)
    (root / first).symlink_to(outside)
    outside.write_text(outside.read_text() + "# edited out there\n")
    kept = outside.read_bytes()
    for run in (generate.write, generate.check):
        with pytest.raises(InputError) as caught:
            run(plan)
        assert str(caught.value) == f"a symbolic link out of the repo ({root.resolve()}) is in the way: {first}"
    assert outside.read_bytes() == kept


def test_an_overlay_directory_linked_out_of_the_repo_is_refused_before_anything_is_written(
    spec_dict: Spec, make_repo: Callable[[Spec], Path], tmp_path: Path
) -> None:
    """Only the file itself was checked: an overlay (or an application's directory) that is a symbolic link
    leading out of the repo had every file written out there, and stale generated files deleted there (a
    repo under review could point `clusters/dev/apps` at any directory the CI job can write)."""
    from sealkit.errors import InputError

    path = make_repo(spec_dict)
    root = path.parent
    plan = generate.plan(load_spec(path))
    generate.write(plan)
    first = Path(next(iter(plan.files)))
    linked = root / first.parent
    outside = tmp_path / "outside"
    linked.rename(outside)
    linked.symlink_to(outside)
    (outside / first.name).write_text("# edited out there\n")
    before = tree(outside)
    for run in (generate.write, generate.check):
        with pytest.raises(InputError) as caught:
            run(plan)
        assert str(caught.value) == f"a symbolic link out of the repo ({root.resolve()}) is in the way: {first}"
    assert tree(outside) == before, "nothing written or deleted out there"
    linked.unlink()
    linked.symlink_to(linked.name)  # a link to itself
    with pytest.raises(InputError, match=f"^a loop of symbolic links is in the way: {first}$"):
        generate.write(plan)
