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
    "A Helm/Go template (not YAML until rendered) was not fully checked: only what it hard-codes, whatever its "
    "values (a Secret's values: SK101-SK103; credential shapes: SK502).",
    "Lint the rendered output (helm template ... | sealkit lint -) or ignore the path in .sealkit-lint.yaml.",
)
BINARY_FILE = Rule(
    "SK003",
    "undecodable-file",
    _E,
    "A YAML, JSON or .env file is binary or not valid UTF-8/UTF-16 text: it was not checked.",
    "Save it as UTF-8 text, rename it if it is not what its name says, or ignore its path.",
)
FILE_TOO_LARGE = Rule(
    "SK004",
    "file-too-large",
    _E,
    "The file is larger than the input limit ($SEALKIT_MAX_INPUT_BYTES, default 8 MiB): it was not checked.",
    "Split the file, raise SEALKIT_MAX_INPUT_BYTES, or ignore its path in .sealkit-lint.yaml.",
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

FILE_UNREADABLE = Rule(
    "SK007",
    "file-unreadable",
    _E,
    "The file cannot be read (permissions, I/O error), is a Git LFS pointer without its content or a git "
    "submodule not checked out, or a symbolic link leads out of the repo, to nothing or round in a loop: it was "
    "not checked.",
    "Make it readable to the lint run, or ignore its path in .sealkit-lint.yaml.",
)
JSON_INVALID = Rule(
    "SK008",
    "json-invalid",
    _I,
    "A .json file is not JSON (comments, JSON5...): it was checked for key material only.",
    "Nothing to do unless it is meant to be a manifest; then fix the JSON at the line shown.",
)
INTERNAL_ERROR = Rule(
    "SK009",
    "file-not-checked",
    _E,
    "Checking the file failed unexpectedly: it was not fully checked.",
    "Report the file's shape (not its values) to the sealkit maintainers; ignore its path meanwhile.",
)
KUSTOMIZE_PATH_MISSING = Rule(
    "SK010",
    "kustomize-path-missing",
    _E,
    "A kustomization names a local file or directory that is not there (or not committed), a directory without "
    "exactly one kustomization file, or a file as a component: kustomize build and Flux fail, and it was not checked.",
    "Correct the entry at the line shown, commit what it names, or remove it.",
)
KUSTOMIZE_PATH_OUTSIDE = Rule(
    "SK011",
    "kustomize-path-outside",
    _E,
    "A kustomization names a path outside the repo (.. past its top, an absolute path, a symlink leading out): "
    "Flux builds from the repo alone, and lint did not check it.",
    "Move what it names into the repo and name it relative to the kustomization, or reference it remotely.",
)
KUSTOMIZE_NOT_FOLLOWED = Rule(
    "SK012",
    "kustomize-not-followed",
    _I,
    "A kustomization names a remote resource (URL, git, OCI) or a path outside the paths this run lints: what it "
    "pulls in was not checked.",
    "Lint the whole repo, and the built output for remote resources (kustomize build DIR | sealkit lint -).",
)
KUSTOMIZE_CYCLE = Rule(
    "SK013",
    "kustomize-cycle",
    _E,
    "Kustomizations include each other (or one includes itself) through resources, bases or components: "
    "kustomize build refuses the cycle.",
    "Remove the entry that leads back; share what both need through a base or component both include.",
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

PRIVATE_KEY = Rule(
    "SK104",
    "private-key-committed",
    _C,
    "A private key is committed (PEM, OpenSSH, PuTTY, PKCS#12, Java keystore or age key), whatever the file's name.",
    "Remove it from the repo and its history, rotate the key, and deliver it through a SealedSecret or Key Vault.",
)
GENERATOR_PLAINTEXT = Rule(
    "SK105",
    "secret-generator-plaintext",
    _E,
    "A kustomize secretGenerator builds a Secret from committed plaintext (literals, env files or files).",
    "Seal the Secret instead (sealkit seal), or generate it from a SOPS-encrypted file (KSOPS).",
)
SOPS_PLAINTEXT = Rule(
    "SK106",
    "sops-plaintext",
    _E,
    "A SOPS file has a value that is not encrypted, or no MAC: it is not what SOPS writes.",
    "Encrypt the file again with sops (sops -e -i FILE); never add plaintext to an encrypted file.",
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
SEALED_TEMPLATE_INVALID = Rule(
    "SK209",
    "sealed-template-invalid",
    _E,
    "The Secret a SealedSecret describes would be refused by the API server (template type, immutable, "
    "labels, annotations or item keys).",
    "Fix the field the message names and re-seal with sealkit seal, which refuses what the API server refuses.",
)

SEALED_WRONG_CLUSTER = Rule(
    "SK210",
    "sealed-wrong-cluster",
    _E,
    "A SealedSecret sits in an environment's directory (sealedSecrets or overlay in the spec) but was sealed for "
    "another cluster: its provenance certificate (or key size) is not one of that environment's.",
    "Seal it for the environment it sits in (sealkit seal --env ENV), or move it where it belongs.",
)
SEALED_OLD_CERTIFICATE = Rule(
    "SK211",
    "sealed-old-certificate",
    _W,
    "A SealedSecret was sealed with an older certificate of its environment (the spec's sealingCert.previous): it "
    "opens while the controller keeps that key.",
    "Re-seal it through that cluster's controller: sealkit reencrypt --env ENV.",
)
SEALED_PROVENANCE_UNKNOWN = Rule(
    "SK212",
    "sealed-cluster-unknown",
    _I,
    "Which cluster a SealedSecret in an environment's directory was sealed for cannot be told (no provenance "
    "annotation, no matching key or key size).",
    "Re-seal it with sealkit (seal --env, reencrypt --env) so it carries its provenance, or lint with --private-key.",
)

# Secrets Store CSI (Azure Key Vault and HashiCorp Vault providers).
SPC_INVALID = Rule(
    "SK301",
    "spc-invalid",
    _E,
    "A SecretProviderClass breaks a rule of the CSI driver or its provider (Azure Key Vault, HashiCorp Vault).",
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

SPC_DEPRECATED = Rule(
    "SK305",
    "spc-deprecated",
    _W,
    "A SecretProviderClass uses a deprecated but still served form (v1alpha1 API, pod identity).",
    "Move to secrets-store.csi.x-k8s.io/v1 and workload identity (clientID) before support ends.",
)
SPC_IGNORED = Rule(
    "SK306",
    "spc-ignored-setting",
    _W,
    "A SecretProviderClass sets something the provider ignores (an unknown parameter, a cloud file it does not use), "
    "or leaves out something so it falls back or likely misreads (Vault: no vaultAddress, no secretKey, no data/).",
    "Remove the setting or correct its name (names are case-sensitive); name what the provider would guess.",
)
SPC_PLACEHOLDER = Rule(
    "SK307",
    "spc-placeholder",
    _I,
    "A SecretProviderClass value is a template placeholder ($VAR, ${VAR}, <...>) filled in later: not checked.",
    "Lint the rendered output too (e.g. envsubst < spc.yaml | sealkit lint -).",
)
SPC_INSECURE = Rule(
    "SK308",
    "spc-insecure-tls",
    _W,
    "A SecretProviderClass reads its secret store without verifying TLS (vaultSkipTLSVerify, or plain http).",
    "Mount the store's CA into the provider pods and name it (vaultCACertPath); use an https address.",
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

PLAINTEXT_CREDENTIAL = Rule(
    "SK503",
    "plaintext-credential",
    _E,
    "A credential-named value (password, token, apiKey, clientSecret...) is committed in plain text in a .env "
    "file, a Flux postBuild substitution, HelmRelease values or a SealedSecret's template data.",
    "Move the value into a SealedSecret or Key Vault and reference it (substituteFrom a Secret, valuesFrom, "
    "existingSecret).",
)

RULES: tuple[Rule, ...] = (
    YAML_INVALID,
    TEMPLATE_SKIPPED,
    BINARY_FILE,
    FILE_TOO_LARGE,
    YAML_BOMB,
    DUPLICATE_KEY,
    FILE_UNREADABLE,
    JSON_INVALID,
    INTERNAL_ERROR,
    KUSTOMIZE_PATH_MISSING,
    KUSTOMIZE_PATH_OUTSIDE,
    KUSTOMIZE_NOT_FOLLOWED,
    KUSTOMIZE_CYCLE,
    PLAINTEXT_SECRET,
    SEALING_KEY,
    LAST_APPLIED,
    PRIVATE_KEY,
    GENERATOR_PLAINTEXT,
    SOPS_PLAINTEXT,
    SEALED_INVALID,
    SEALED_BAD_VALUE,
    SEALED_KEY_SIZE,
    SEALED_NO_NAMESPACE,
    SEALED_SCOPE_ON_TEMPLATE,
    SEALED_TEMPLATE_OVERRIDE,
    SEALED_DEPRECATED_DATA,
    SEALED_DOES_NOT_OPEN,
    SEALED_TEMPLATE_INVALID,
    SEALED_WRONG_CLUSTER,
    SEALED_OLD_CERTIFICATE,
    SEALED_PROVENANCE_UNKNOWN,
    SPC_INVALID,
    CSI_VOLUME_INVALID,
    CSI_STALE,
    CSI_SPEC_INVALID,
    SPC_DEPRECATED,
    SPC_IGNORED,
    SPC_PLACEHOLDER,
    SPC_INSECURE,
    SECRET_REF_MISSING,
    SECRET_LITERAL,
    CREDENTIAL_LITERAL,
    PLAINTEXT_CREDENTIAL,
)

_BY_KEY = {r.id.upper(): r for r in RULES} | {r.name.upper(): r for r in RULES}


def find_rule(key: str) -> Rule:
    """A rule by id (SK101) or name (plaintext-secret), case-insensitive."""
    rule = _BY_KEY.get(key.strip().upper())
    if rule is None:
        raise InputError(f"unknown lint rule {key!r} (see `sealkit lint --list-rules`)")
    return rule
