"""seal-creds: service-principal credentials sealed for the environment's cluster, never in clear."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.csi import generate
from sealkit.csi.credentials import ServicePrincipal, check_principal, plan_credentials, seal_credentials
from sealkit.csi.spec import load_spec
from sealkit.errors import InputError
from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.unsealing import unseal

Spec = dict[str, Any]
SECRET = "s3cr3t-value-never-printed"
CLIENT_1 = "0a1b2c3d-0000-4000-8000-00000000c001"
CLIENT_2 = "0a1b2c3d-0000-4000-8000-00000000c002"
EXAMPLE_CERT = Path(__file__).resolve().parents[3] / "examples/gitops/clusters/example-cluster-cert.pem"


@pytest.fixture
def sp_repo(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> Path:
    spec_dict["environments"]["prod"]["identity"] = {"servicePrincipal": {"secretName": "kv-creds"}}
    path = make_repo(spec_dict)
    (path.parent / "cert.pem").write_bytes(EXAMPLE_CERT.read_bytes())
    return path


def test_sealed_for_the_cluster_with_the_used_label(sp_repo: Path, data_dir: Path) -> None:
    spec = load_spec(sp_repo)
    targets = seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))
    assert [t.path for t in targets] == ["clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml"]
    text = (sp_repo.parent / targets[0].path).read_text()
    assert SECRET not in text and CLIENT_1 not in text
    assert text.startswith("# Sealed by `sealkit csi seal-creds --env prod`")
    keys = KeyRing(load_private_keys((data_dir / "example-cluster-key.pem").read_bytes()))
    secret = unseal(yaml.safe_load(text), keys).secret
    assert secret["metadata"]["name"] == "kv-creds" and secret["metadata"]["namespace"] == "team"
    assert secret["metadata"]["labels"] == {"secrets-store.csi.k8s.io/used": "true"}
    assert base64.b64decode(secret["data"]["clientsecret"]).decode() == SECRET
    assert base64.b64decode(secret["data"]["clientid"]).decode() == CLIENT_1


def test_check_accepts_any_sealing_but_requires_the_file(sp_repo: Path) -> None:
    spec = load_spec(sp_repo)
    generate.write(generate.plan(spec))
    missing = generate.check(generate.plan(spec))
    assert missing.credential_problems == [
        "clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml is missing: "
        "run `sealkit csi seal-creds --env prod`"
    ]
    seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))
    assert generate.check(generate.plan(spec)).ok
    seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))  # new random bytes
    assert generate.check(generate.plan(spec)).ok
    target = sp_repo.parent / "clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml"
    target.write_text(target.read_text().replace("name: kv-creds", "name: other"))
    assert generate.check(generate.plan(spec)).credential_problems == [
        "clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml must seal Secret team/kv-creds"
    ]


def test_no_service_principal_environment(sp_repo: Path) -> None:
    with pytest.raises(InputError, match="no application uses the servicePrincipal identity: environment dev"):
        seal_credentials(load_spec(sp_repo), "dev", ServicePrincipal(CLIENT_1, SECRET))
    with pytest.raises(InputError, match="unknown environment 'qa' \\(the spec has: dev, prod\\): --env qa"):
        seal_credentials(load_spec(sp_repo), "qa", ServicePrincipal(CLIENT_1, SECRET))


def test_the_secret_never_shows_in_repr_or_errors() -> None:
    assert SECRET not in repr(ServicePrincipal(CLIENT_1, SECRET))
    with pytest.raises(InputError, match="client secret is empty"):
        ServicePrincipal(CLIENT_1, "")
    with pytest.raises(InputError, match="client id is empty"):
        ServicePrincipal(" ", SECRET)


def test_a_fetched_certificate_is_the_callers(sp_repo: Path) -> None:
    """The core reads no URL: the CLI fetches an environment's certificate (`sealkit_cli.certsource`) and
    passes it; without it, the environment is refused by name, nothing is written."""
    text = sp_repo.read_text().replace("sealingCert: cert.pem", "sealingCert: https://certs.example/prod.pem")
    sp_repo.write_text(text)
    with pytest.raises(InputError, match="which this command cannot reach"):
        seal_credentials(load_spec(sp_repo), "prod", ServicePrincipal(CLIENT_1, SECRET))
    assert not (sp_repo.parent / "clusters/prod/apps/credentials").exists()
    cert = load_certificate(EXAMPLE_CERT.read_bytes(), "prod.pem")
    targets = seal_credentials(load_spec(sp_repo), "prod", ServicePrincipal(CLIENT_1, SECRET), cert)
    assert (sp_repo.parent / targets[0].path).is_file()


def test_missing_certificate_file(sp_repo: Path) -> None:
    (sp_repo.parent / "cert.pem").unlink()
    with pytest.raises(InputError, match=r"environment prod's sealing certificate does not exist: cert\.pem"):
        seal_credentials(load_spec(sp_repo), "prod", ServicePrincipal(CLIENT_1, SECRET))


def test_every_file_is_written_or_none(
    sp_repo: Path, spec_dict: Spec, make_repo: Callable[[Spec], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two namespaces, two files: the second cannot be written (a full disk, simulated), so the first is put
    back as it was, and the line names the file ('cannot write X: why' before, the first file rewritten)."""
    import copy
    import errno
    import os

    from sealkit import filewrites

    spec_dict["environments"]["prod"]["identity"] = {"servicePrincipal": {"secretName": "kv-creds"}}
    spec_dict["applications"]["api"] = copy.deepcopy(spec_dict["applications"]["web"]) | {"namespace": "api"}
    path = make_repo(spec_dict)
    (path.parent / "cert.pem").write_bytes(EXAMPLE_CERT.read_bytes())
    spec = load_spec(path, check_bases=False)
    files = [spec.root / t.path for t in seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))]
    assert [f.name for f in files] == ["api.kv-creds.sealedsecret.yaml", "team.kv-creds.sealedsecret.yaml"]
    before = {f: f.read_bytes() for f in files}
    real = filewrites._overwrite

    def full(fd: int, data: bytes) -> None:
        if Path(f"/proc/self/fd/{fd}").readlink() == files[1] and data != before[files[1]]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    monkeypatch.setattr(filewrites, "_overwrite", full)
    with pytest.raises(InputError) as caught:
        seal_credentials(spec, "prod", ServicePrincipal(CLIENT_2, SECRET))
    assert str(caught.value) == f"cannot write (no space left on device): {files[1]}"
    assert {f: f.read_bytes() for f in files} == before, "the first file put back as it was"
    assert sorted(p.name for p in files[0].parent.iterdir()) == [f.name for f in files], "no temporary file left"


def test_a_credentials_directory_that_cannot_be_made_is_named_and_nothing_is_written(sp_repo: Path) -> None:
    """A file where the credentials directory goes (ENOTDIR/EEXIST, also as root)."""
    spec = load_spec(sp_repo)
    credentials = sp_repo.parent / "clusters/prod/apps/credentials"
    credentials.parent.mkdir(parents=True)
    credentials.write_text("a file, not a directory")
    target = spec.root / "clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml"
    with pytest.raises(InputError) as caught:
        seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))
    assert str(caught.value) == f"cannot create directory {credentials} (a file is in the way): {target}"
    assert credentials.read_text() == "a file, not a directory"


def test_a_credentials_file_linked_out_of_the_repo_is_refused(sp_repo: Path, tmp_path: Path) -> None:
    """Sealed credentials written through a link out of the repo would never be committed (it holds the link)."""
    spec = load_spec(sp_repo)
    (target,) = seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))
    path = sp_repo.parent / target.path
    outside = tmp_path / "outside.yaml"
    path.rename(outside)
    path.symlink_to(outside)
    kept = outside.read_bytes()
    with pytest.raises(InputError) as caught:
        seal_credentials(spec, "prod", ServicePrincipal(CLIENT_2, SECRET))
    assert str(caught.value) == f"a symbolic link out of the repo ({spec.root.resolve()}) is in the way: {target.path}"
    assert outside.read_bytes() == kept


@pytest.mark.parametrize("client_id", [SECRET, "client-1", CLIENT_1 + "x", "{" + CLIENT_1 + "}"])
def test_a_client_id_that_is_not_a_guid_is_refused_unshown(client_id: str) -> None:
    """A client secret pasted into the client id's place (or the two lines swapped) was sealed as `clientid`:
    every mount failed, and the secret sat under the wrong key. Now refused, the value never shown."""
    with pytest.raises(InputError) as caught:
        ServicePrincipal(client_id, SECRET)
    assert str(caught.value) == (
        "the service principal's client id must be a GUID like 00000000-0000-0000-0000-000000000000 "
        "(the value is not shown)"
    )
    with pytest.raises(InputError) as caught:
        check_principal(client_id, SECRET, ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"))
    assert str(caught.value).endswith("(the value is not shown): AZURE_CLIENT_ID")
    assert ServicePrincipal(f" {CLIENT_1.upper()}\t", SECRET)  # a GUID in either case, blanks around it


def test_a_credentials_directory_linked_out_of_the_repo_is_refused(sp_repo: Path, tmp_path: Path) -> None:
    """A directory above the file that leads out of the repo put the sealed file out there (only the file
    itself was checked): refused as a linked file is, nothing written anywhere."""
    spec = load_spec(sp_repo)
    credentials = sp_repo.parent / "clusters/prod/apps/credentials"
    credentials.parent.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    credentials.symlink_to(outside)
    with pytest.raises(InputError) as caught:
        seal_credentials(spec, "prod", ServicePrincipal(CLIENT_1, SECRET))
    assert str(caught.value) == (
        f"a symbolic link out of the repo ({spec.root.resolve()}) is in the way: "
        "clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml"
    )
    assert list(outside.iterdir()) == []


def test_plan_writes_nothing(sp_repo: Path) -> None:
    planned = plan_credentials(load_spec(sp_repo), "prod", ServicePrincipal(CLIENT_1, SECRET))
    assert [target.path for target, _ in planned] == ["clusters/prod/apps/credentials/team.kv-creds.sealedsecret.yaml"]
    assert not (sp_repo.parent / "clusters/prod/apps/credentials").exists()
