"""The driver/provider rules run on hand-written manifests: any type anywhere yields problems, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.csi import rules

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.floats(allow_nan=False))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = [
    "spec",
    "provider",
    "parameters",
    "objects",
    "secretObjects",
    "data",
    "template",
    "volumes",
    "csi",
    "jobTemplate",
    "metadata",
    "volumeAttributes",
    "keyvaultName",
    "tenantID",
    "usePodIdentity",
    "useVMManagedIdentity",
    "userAssignedIdentityID",
    "clientID",
    "readOnly",
    "driver",
]


def loose(**fields: Any) -> Any:
    """A dict with these fields (each maybe absent) or, sometimes, any value at all."""
    return st.one_of(st.fixed_dictionaries({}, optional=fields), trees)


volumes = st.lists(
    st.one_of(
        trees,
        loose(
            name=trees,
            csi=loose(driver=st.just("secrets-store.csi.k8s.io") | trees, readOnly=trees, volumeAttributes=trees),
        ),
    ),
    max_size=3,
)
pod = loose(volumes=volumes, containers=trees)
SPEC = loose(
    provider=st.just("azure") | trees,
    parameters=loose(
        **{name: trees for name in FIELDS if name != "objects"},
        objects=st.just("array:\n  - |\n    objectName: a\n") | trees,
    ),
    secretObjects=st.lists(loose(secretName=trees, type=trees, data=st.lists(loose(key=trees, objectName=trees))))
    | trees,
)
WORKLOAD_SPEC = loose(template=loose(spec=pod), jobTemplate=loose(spec=loose(template=loose(spec=pod))))


def shaped(kind: str) -> Any:
    """Manifests of `kind` whose fields, at every depth, may hold any type."""
    return st.fixed_dictionaries(
        {"apiVersion": st.sampled_from(["secrets-store.csi.x-k8s.io/v1", "apps/v1", "v1"]), "kind": st.just(kind)},
        optional={"spec": SPEC if kind == "SecretProviderClass" else WORKLOAD_SPEC, "metadata": trees},
    )


@settings(max_examples=300, deadline=None)
@given(spc=shaped("SecretProviderClass"), workload=st.one_of(shaped("Deployment"), shaped("CronJob"), shaped("Pod")))
def test_rules_never_crash(spc: dict[str, Any], workload: dict[str, Any]) -> None:
    assert isinstance(rules.spc_problems(spc), list)
    assert isinstance(rules.synced_secret_names(spc), list)
    assert isinstance(rules.csi_volume_problems(workload), list)
    rules.pod_spec(workload)
    rules.duplicate_sync_problems([("a", spc), ("b", spc)])
    rules.unmounted_sync_problems([("a", spc)], [workload])
