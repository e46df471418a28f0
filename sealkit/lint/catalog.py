"""Every lint rule, with its id, default severity and one-line fix (docs/lint.md lists the same)."""

from __future__ import annotations

from sealkit.errors import InputError
from sealkit.lint.model import Rule, Severity

_W, _E, _C, _I = Severity.WARNING, Severity.ERROR, Severity.CRITICAL, Severity.INFO

# Per-object opt-outs, set in an object's metadata.annotations.
ALLOW_PLAINTEXT_ANNOTATION = "sealkit.io/lint-allow-plaintext"  # value: the reviewed reason
IGNORE_ANNOTATION = "sealkit.io/lint-ignore"  # value: rule ids, comma- or space-separated

# Files that cannot be checked.
YAML_INVALID = Rule(
    "SK001", "yaml-invalid", _E, "The file is not valid YAML.", "Fix the YAML syntax at the line shown."
)
TEMPLATE_SKIPPED = Rule(
    "SK002",
    "template-skipped",
    _I,
    "A Helm/Go template (not YAML until rendered) was skipped.",
    "Lint the rendered output (helm template ... | sealkit lint -) or ignore the path in .sealkit-lint.yaml.",
)
BINARY_FILE = Rule("SK003", "binary-file", _W, "A binary file has a YAML name.", "Rename the file or ignore its path.")
FILE_TOO_LARGE = Rule(
    "SK004",
    "file-too-large",
    _W,
    "The file is larger than the lint limit and was not checked.",
    "Split the file, or ignore its path in .sealkit-lint.yaml.",
)
YAML_BOMB = Rule(
    "SK005",
    "yaml-expansion-limit",
    _E,
    "Anchors/aliases expand too far, recurse, or nest too deep (a YAML bomb).",
    "Remove the recursive or repeated aliases; manifests do not need them.",
)
DUPLICATE_KEY = Rule(
    "SK006",
    "duplicate-key",
    _E,
    "A mapping has the same key twice: tools disagree on which one wins.",
    "Keep one of the keys.",
)

# Secrets.
PLAINTEXT_SECRET = Rule(
    "SK101",
    "plaintext-secret",
    _E,
    "A Secret with data or stringData is committed in plain text (base64 is not encryption).",
    f"Seal it (sealkit seal -f secret.yaml -w sealed.yaml) and delete the Secret; for a reviewed exception "
    f"annotate it {ALLOW_PLAINTEXT_ANNOTATION}: '<reason>'.",
)
SEALING_KEY = Rule(
    "SK102",
    "sealing-key-committed",
    _C,
    "A private key Secret (sealing key label or tls.key) is committed: whoever reads the repo can open "
    "every SealedSecret or impersonate the service.",
    "Remove it from the repo and its history, and rotate the key (new sealing key, re-seal).",
)
LAST_APPLIED = Rule(
    "SK103",
    "last-applied-secret",
    _E,
    "A last-applied-configuration annotation holds a copy of a Secret with its values.",
    "Delete the kubectl.kubernetes.io/last-applied-configuration annotation.",
)

# SealedSecrets.
SEALED_INVALID = Rule(
    "SK201",
    "sealed-invalid",
    _E,
    "The SealedSecret is malformed: the controller cannot read it.",
    "Re-create it with sealkit seal or kubeseal.",
)
SEALED_BAD_VALUE = Rule(
    "SK202",
    "sealed-bad-value",
    _E,
    "A sealed value is not valid base64 or not in the sealed format.",
    "Re-seal the item; do not edit sealed values by hand.",
)
SEALED_KEY_SIZE = Rule(
    "SK203",
    "sealed-key-size",
    _E,
    "A value was sealed with a key of another size than the target cluster's certificate (--cert).",
    "Re-seal it with the target cluster's certificate (sealkit seal --cert CERT).",
)
SEALED_NO_NAMESPACE = Rule(
    "SK204",
    "sealed-no-namespace",
    _E,
    "A strict or namespace-wide SealedSecret has no namespace: it opens only in the one it was sealed for.",
    "Set metadata.namespace to the namespace it was sealed for, or seal it cluster-wide.",
)
SEALED_SCOPE_ON_TEMPLATE = Rule(
    "SK205",
    "sealed-scope-on-template",
    _E,
    "A scope annotation is only on spec.template.metadata; the controller reads metadata.annotations.",
    "Move the sealedsecrets.bitnami.com scope annotation to metadata.annotations (and re-seal if needed).",
)
SEALED_TEMPLATE_OVERRIDE = Rule(
    "SK206",
    "sealed-template-overrides-item",
    _W,
    "An item is both sealed and in spec.template.data: the template wins and the sealed value is unused.",
    "Remove the item from spec.template.data or from spec.encryptedData.",
)
SEALED_DEPRECATED_DATA = Rule(
    "SK207",
    "sealed-deprecated-data",
    _W,
    "The SealedSecret uses deprecated spec.data.",
    "Re-seal it so the values are in spec.encryptedData.",
)
SEALED_DOES_NOT_OPEN = Rule(
    "SK208",
    "sealed-does-not-open",
    _E,
    "A SealedSecret does not open for its name and namespace (--private-key or --online).",
    "Re-seal it for this name, namespace and scope with the target cluster's certificate.",
)

# Key Vault CSI.
SPC_INVALID = Rule(
    "SK301",
    "spc-invalid",
    _E,
    "A SecretProviderClass breaks a rule of the CSI driver or the Azure provider.",
    "Correct the field as the message says (see docs/csi.md); generated classes come from sealkit-csi.yaml.",
)
CSI_VOLUME_INVALID = Rule(
    "SK302",
    "csi-volume-invalid",
    _E,
    "A Secrets Store CSI volume would be refused by the driver.",
    "Set csi.readOnly: true and volumeAttributes.secretProviderClass.",
)
CSI_STALE = Rule(
    "SK303",
    "csi-generated-stale",
    _E,
    "Files generated by sealkit csi generate differ from what the spec produces now.",
    "Run sealkit csi generate --spec SPEC and commit the result.",
)
CSI_SPEC_INVALID = Rule(
    "SK304",
    "csi-spec-invalid",
    _E,
    "The sealkit-csi.yaml spec does not load.",
    "Fix the spec as the message says (sealkit csi generate --check shows the same).",
)

# References.
SECRET_REF_MISSING = Rule(
    "SK401",
    "secret-ref-missing",
    _W,
    "A workload references a Secret that no Secret, SealedSecret, SPC sync or generator in the repo provides.",
    "Add a SealedSecret or SPC secretObjects entry, mark the reference optional, or list it under known-secrets.",
)

# Literals.
SECRET_LITERAL = Rule(
    "SK501",
    "secret-literal",
    _W,
    "A secret-looking value (sensitive key name, high-entropy value) in a ConfigMap, env value or Helm values.",
    "Move the value into a SealedSecret or Key Vault and reference it (secretKeyRef).",
)
CREDENTIAL_LITERAL = Rule(
    "SK502",
    "credential-literal",
    _E,
    "A value has the shape of a credential (private key, access key, token, password in a URL).",
    "Remove it, rotate the credential, and deliver it through a SealedSecret or Key Vault.",
)

RULES: tuple[Rule, ...] = (
    YAML_INVALID,
    TEMPLATE_SKIPPED,
    BINARY_FILE,
    FILE_TOO_LARGE,
    YAML_BOMB,
    DUPLICATE_KEY,
    PLAINTEXT_SECRET,
    SEALING_KEY,
    LAST_APPLIED,
    SEALED_INVALID,
    SEALED_BAD_VALUE,
    SEALED_KEY_SIZE,
    SEALED_NO_NAMESPACE,
    SEALED_SCOPE_ON_TEMPLATE,
    SEALED_TEMPLATE_OVERRIDE,
    SEALED_DEPRECATED_DATA,
    SEALED_DOES_NOT_OPEN,
    SPC_INVALID,
    CSI_VOLUME_INVALID,
    CSI_STALE,
    CSI_SPEC_INVALID,
    SECRET_REF_MISSING,
    SECRET_LITERAL,
    CREDENTIAL_LITERAL,
)

_BY_KEY = {r.id.upper(): r for r in RULES} | {r.name.upper(): r for r in RULES}


def find_rule(key: str) -> Rule:
    """A rule by id (SK101) or name (plaintext-secret), case-insensitive."""
    rule = _BY_KEY.get(key.strip().upper())
    if rule is None:
        raise InputError(f"unknown lint rule {key!r} (see `sealkit lint --list-rules`)")
    return rule
