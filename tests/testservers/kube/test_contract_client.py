"""Contract: the calls the `kubernetes` client makes (CoreV1, CustomObjects, watch) get real-server answers."""

from __future__ import annotations

import re
import threading
from typing import Any

import kubernetes as _kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes  # the generated client's strict types add nothing to contract tests

SS = ("bitnami.com", "v1alpha1", "sealedsecrets")


def _sealed(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name},
        "spec": {"encryptedData": {"k": "AgB..."}, **spec},
    }


@pytest.fixture()
def core(kube_api_client: Any) -> Any:
    return kubernetes.client.CoreV1Api(kube_api_client)


@pytest.fixture()
def custom(kube_api_client: Any) -> Any:
    return kubernetes.client.CustomObjectsApi(kube_api_client)


def test_discovery_as_the_client_requests_it(kube_api_client: Any) -> None:
    versions = kubernetes.client.CoreApi(kube_api_client).get_api_versions()
    assert versions.versions == ["v1"] and versions.server_address_by_client_cidrs
    groups = {g.name: g for g in kubernetes.client.ApisApi(kube_api_client).get_api_versions().groups}
    assert groups["bitnami.com"].preferred_version.group_version == "bitnami.com/v1alpha1"
    core = kubernetes.client.CoreV1Api(kube_api_client).get_api_resources()
    assert core.group_version == "v1"
    names = {r.name: r for r in core.resources}
    assert {"secrets", "namespaces", "services/proxy", "namespaces/status"} <= set(names)
    assert {"list", "watch", "patch"} <= set(names["namespaces"].verbs)
    version = kubernetes.client.VersionApi(kube_api_client).get_code()
    assert version.major == "1"


def test_server_sets_metadata_and_namespace_from_url(core: Any, custom: Any) -> None:
    secret = core.create_namespaced_secret("default", {"metadata": {"generateName": "tls-"}, "stringData": {"a": "b"}})
    meta = secret.metadata
    assert re.fullmatch(r"tls-[a-z0-9]{5}", meta.name)
    assert meta.namespace == "default" and meta.uid and int(meta.resource_version) > 0
    assert meta.creation_timestamp is not None and meta.generation is None  # Secrets carry no generation
    assert secret.data == {"a": "Yg=="} and secret.type == "Opaque"  # stringData folded into data
    second = core.create_namespaced_secret("default", {"metadata": {"generateName": "tls-"}})
    assert second.metadata.name != meta.name
    assert int(second.metadata.resource_version) > int(meta.resource_version)  # one counter

    obj = custom.create_namespaced_custom_object(*SS[:2], "default", SS[2], _sealed("s1"))
    assert obj["metadata"]["generation"] == 1 and obj["metadata"]["namespace"] == "default"
    assert obj["kind"] == "SealedSecret"


def test_conflicts_and_validation(core: Any, custom: Any) -> None:
    core.create_namespaced_secret("default", {"metadata": {"name": "x"}})
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_secret("default", {"metadata": {"name": "x"}})
    assert dup.value.status == 409 and "already exists" in str(dup.value.body)
    stale = core.read_namespaced_secret("x", "default")
    core.patch_namespaced_secret("x", "default", {"metadata": {"labels": {"v": "2"}}})
    stale.metadata.labels = {"v": "3"}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_secret("x", "default", stale)
    assert conflict.value.status == 409 and "has been modified" in str(conflict.value.body)
    with pytest.raises(ApiException) as missing_ns:
        core.create_namespaced_secret("nowhere", {"metadata": {"name": "x"}})
    assert missing_ns.value.status == 404
    with pytest.raises(ApiException) as bad_name:
        core.create_namespaced_secret("default", {"metadata": {"name": "Not_Valid"}})
    assert bad_name.value.status == 422
    with pytest.raises(ApiException) as no_spec:
        custom.create_namespaced_custom_object(
            *SS[:2],
            "default",
            SS[2],
            {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "n"}},
        )
    assert no_spec.value.status == 422 and "spec: Required value" in str(no_spec.value.body)
    with pytest.raises(ApiException) as bad_b64:
        core.create_namespaced_secret("default", {"metadata": {"name": "y"}, "data": {"k": "not base64!"}})
    assert bad_b64.value.status == 400


def test_patch_flavours_and_put(core: Any, kube_api_client: Any) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "cm", "finalizers": ["a/b"]}, "data": {"a": "1", "b": "2"}}
    )
    # strategic merge (the client's choice for dict bodies): finalizers merge as a set
    cm = core.patch_namespaced_config_map("cm", "default", {"metadata": {"finalizers": ["c/d"]}, "data": {"a": None}})
    assert cm.metadata.finalizers == ["a/b", "c/d"] and cm.data == {"b": "2"}
    # JSON patch (a list body)
    rv = cm.metadata.resource_version
    cm = core.patch_namespaced_config_map(
        "cm",
        "default",
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/data/c", "value": "3"},
            {"op": "remove", "path": "/metadata/finalizers"},
        ],
    )
    assert cm.data == {"b": "2", "c": "3"} and not cm.metadata.finalizers
    with pytest.raises(ApiException) as failed_test:
        core.patch_namespaced_config_map(
            "cm", "default", [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}]
        )
    assert failed_test.value.status == 422
    # PUT
    cm.data = {"only": "this"}
    replaced = core.replace_namespaced_config_map("cm", "default", cm)
    assert replaced.data == {"only": "this"}
    # a no-op patch changes nothing, not even the resourceVersion
    same = core.patch_namespaced_config_map("cm", "default", {"data": {"only": "this"}})
    assert same.metadata.resource_version == replaced.metadata.resource_version


def test_custom_objects_status_isolation_and_generation(custom: Any) -> None:
    group, version, plural = SS
    custom.create_namespaced_custom_object(
        group, version, "default", plural, {**_sealed("s"), "status": {"observedGeneration": 9}}
    )
    created = custom.get_namespaced_custom_object(group, version, "default", plural, "s")
    assert "status" not in created  # status is not writable on create with a status subresource
    patched = custom.patch_namespaced_custom_object(
        group,
        version,
        "default",
        plural,
        "s",
        {"metadata": {"labels": {"l": "1"}}, "status": {"observedGeneration": 5}},
    )
    assert "status" not in patched and patched["metadata"]["generation"] == 1  # metadata-only: no bump
    status = custom.patch_namespaced_custom_object_status(
        group,
        version,
        "default",
        plural,
        "s",
        {"spec": {"encryptedData": {"changed": "x"}}, "status": {"observedGeneration": 1}},
    )
    assert status["status"] == {"observedGeneration": 1}
    assert status["spec"]["encryptedData"] == {"k": "AgB..."}  # spec untouched through /status
    bumped = custom.patch_namespaced_custom_object(
        group, version, "default", plural, "s", {"spec": {"encryptedData": {"k2": "v"}}}
    )
    assert bumped["metadata"]["generation"] == 2 and bumped["status"] == {"observedGeneration": 1}
    bumped["spec"]["template"] = {"type": "Opaque"}
    replaced = custom.replace_namespaced_custom_object(group, version, "default", plural, "s", bumped)
    assert replaced["metadata"]["generation"] == 3
    stale = dict(bumped)
    with pytest.raises(ApiException) as conflict:
        custom.replace_namespaced_custom_object(group, version, "default", plural, "s", stale)
    assert conflict.value.status == 409
    listed = custom.list_namespaced_custom_object(group, version, "default", plural)
    assert listed["kind"] == "SealedSecretList" and int(listed["metadata"]["resourceVersion"]) >= int(
        replaced["metadata"]["resourceVersion"]
    )


def test_label_and_field_selectors_and_paging(core: Any) -> None:
    for n in range(5):
        core.create_namespaced_secret(
            "default",
            {
                "metadata": {"name": f"s{n}", "labels": {"app": "a" if n % 2 else "b", "tier": str(n)}},
                "type": "Opaque" if n else "kubernetes.io/tls",
                "data": {"tls.crt": "", "tls.key": ""} if not n else {},
            },
        )

    def names(items: Any) -> list[str]:
        return sorted(i.metadata.name for i in items)

    assert names(core.list_namespaced_secret("default", label_selector="app=a").items) == ["s1", "s3"]
    assert names(core.list_namespaced_secret("default", label_selector="app!=a,tier in (0,2)").items) == ["s0", "s2"]
    assert names(core.list_namespaced_secret("default", label_selector="!missing,tier notin (0)").items) == [
        "s1",
        "s2",
        "s3",
        "s4",
    ]
    assert names(core.list_namespaced_secret("default", field_selector="metadata.name=s4").items) == ["s4"]
    assert names(core.list_secret_for_all_namespaces(field_selector="type=kubernetes.io/tls").items) == ["s0"]
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_secret("default", field_selector="spec.nope=1")
    assert bad.value.status == 400
    first = core.list_namespaced_secret("default", limit=2)
    assert len(first.items) == 2 and first.metadata.var_continue
    rest = core.list_namespaced_secret("default", limit=10, _continue=first.metadata.var_continue)
    assert names(first.items) + names(rest.items) == ["s0", "s1", "s2", "s3", "s4"]


def test_watch_stream_resume_and_timeout(core: Any) -> None:
    core.create_namespaced_secret("default", {"metadata": {"name": "w0", "labels": {"w": "yes"}}})
    watch = kubernetes.watch.Watch()
    seen: list[tuple[str, str]] = []
    last_rv = ""
    for event in watch.stream(core.list_namespaced_secret, "default", label_selector="w=yes", timeout_seconds=1):
        seen.append((event["type"], event["object"].metadata.name))
        last_rv = event["object"].metadata.resource_version
    assert seen == [("ADDED", "w0")]  # the stream ended by timeoutSeconds

    core.create_namespaced_secret("default", {"metadata": {"name": "w1", "labels": {"w": "yes"}}})
    core.create_namespaced_secret("default", {"metadata": {"name": "other"}})
    core.patch_namespaced_secret("w0", "default", {"metadata": {"labels": {"w": "no"}}})  # leaves the selection
    core.delete_namespaced_secret("w1", "default")
    resumed = [
        (e["type"], e["object"].metadata.name)
        for e in kubernetes.watch.Watch().stream(
            core.list_namespaced_secret, "default", label_selector="w=yes", resource_version=last_rv, timeout_seconds=1
        )
    ]
    assert resumed == [("ADDED", "w1"), ("DELETED", "w0"), ("DELETED", "w1")]


def test_watch_sees_live_changes(core: Any) -> None:
    events: list[tuple[str, str]] = []
    started = threading.Event()

    def consume() -> None:
        rv = core.list_namespaced_config_map("default").metadata.resource_version
        started.set()
        for event in kubernetes.watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=2
        ):
            events.append((event["type"], event["object"].metadata.name))

    thread = threading.Thread(target=consume)
    thread.start()
    assert started.wait(5)
    core.create_namespaced_config_map("default", {"metadata": {"name": "live"}})
    core.patch_namespaced_config_map("live", "default", {"data": {"a": "b"}})
    core.delete_namespaced_config_map("live", "default")
    thread.join(10)
    assert events == [("ADDED", "live"), ("MODIFIED", "live"), ("DELETED", "live")]


def test_finalizers_deletion_timestamp_and_garbage_collection(core: Any, kube: KubeServer) -> None:
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "owner", "finalizers": ["x/y"]}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_secret("default", {"metadata": {"name": "child", "ownerReferences": [ref]}})
    core.create_namespaced_secret("default", {"metadata": {"name": "orphan-me", "ownerReferences": [ref]}})
    core.delete_namespaced_config_map("owner", "default")
    held = core.read_namespaced_config_map("owner", "default")
    assert held.metadata.deletion_timestamp is not None  # finalizer holds it
    with pytest.raises(ApiException) as no_new:
        core.patch_namespaced_config_map("owner", "default", {"metadata": {"finalizers": ["x/y", "new/one"]}})
    assert no_new.value.status == 422
    core.patch_namespaced_config_map("owner", "default", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("owner", "default")
    assert gone.value.status == 404
    assert kube.get("v1", "Secret", "child", "default") is None  # collected with its owner

    parent = core.create_namespaced_config_map("default", {"metadata": {"name": "parent"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "parent", "uid": parent.metadata.uid}
    core.create_namespaced_secret("default", {"metadata": {"name": "kept", "ownerReferences": [ref]}})
    core.delete_namespaced_config_map("parent", "default", propagation_policy="Orphan")
    kept = core.read_namespaced_secret("kept", "default")
    assert not kept.metadata.owner_references


def test_namespaces_and_events(core: Any, kube: KubeServer) -> None:
    ns = core.create_namespace({"metadata": {"name": "team-a"}})
    assert ns.status.phase == "Active"
    assert "team-a" in [n.metadata.name for n in core.list_namespace().items]
    core.create_namespaced_secret("team-a", {"metadata": {"name": "s"}})
    event = core.create_namespaced_event(
        "team-a",
        {
            "metadata": {"generateName": "s."},
            "reason": "Test",
            "message": "hello",
            "type": "Normal",
            "involvedObject": {"kind": "Secret", "name": "s", "namespace": "team-a"},
        },
    )
    assert event.metadata.name.startswith("s.")
    found = core.list_namespaced_event("team-a", field_selector="involvedObject.name=s,reason=Test").items
    assert [e.message for e in found] == ["hello"]
    core.delete_namespace("team-a")
    assert kube.get("v1", "Namespace", "team-a") is None and kube.list("v1", "Secret", "team-a") == []


def test_dry_run_stores_nothing(core: Any, kube: KubeServer) -> None:
    core.create_namespaced_secret("default", {"metadata": {"name": "dry"}}, dry_run="All")
    assert kube.get("v1", "Secret", "dry", "default") is None
