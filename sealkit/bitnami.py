"""Names Bitnami's Sealed Secrets uses on the wire and in clusters; sealkit uses the same ones."""

from __future__ import annotations

GROUP = "bitnami.com"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "SealedSecret"
PLURAL = "sealedsecrets"

ANNOTATION_PREFIX = "sealedsecrets.bitnami.com/"
CLUSTER_WIDE_ANNOTATION = ANNOTATION_PREFIX + "cluster-wide"
NAMESPACE_WIDE_ANNOTATION = ANNOTATION_PREFIX + "namespace-wide"
MANAGED_ANNOTATION = ANNOTATION_PREFIX + "managed"
PATCH_ANNOTATION = ANNOTATION_PREFIX + "patch"
SKIP_OWNER_REFERENCES_ANNOTATION = ANNOTATION_PREFIX + "skip-set-owner-references"

# Key Secrets: type kubernetes.io/tls in the controller's namespace, found by this label.
SEALING_KEY_LABEL = ANNOTATION_PREFIX + "sealed-secrets-key"
SEALING_KEY_LABEL_ACTIVE = "active"
SEALING_KEY_PREFIX = "sealed-secrets-key"

# Annotations kubectl and kubecfg write that hold a copy of the object, plaintext included.
LAST_APPLIED_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
)

DEFAULT_CONTROLLER_NAME = "sealed-secrets-controller"
DEFAULT_CONTROLLER_NAMESPACE = "kube-system"
