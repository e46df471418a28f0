"""`sealkit kubeseal`: kubeseal's command line, flag for flag, on sealkit's core.

Where it sits: a CLI command beside `seal`, `cert`, `verify`, `reencrypt` and `unseal`, for people whose
scripts, Makefiles and CI jobs call kubeseal (`alias kubeseal='sealkit kubeseal'`). Defaults and behaviour
are kubeseal's (bitnami-labs/sealed-secrets cmd/kubeseal/main.go and pkg/kubeseal): JSON unless `-o yaml`
or a `-w` file ending in .yaml/.yml; one mode per run (`--recovery-unseal`, `--validate`, `--re-encrypt`,
`--fetch-cert`, `--merge-into`, `--raw`, else sealing); a Secret's namespace is its own, else `-n`, else
the kubeconfig context's, else "default"; every flag also from SEALED_SECRETS_<FLAG> (the flag wins).
The option definitions are `sealkit_cli.options`'; the deliberate differences are in `DIFFERENCES`.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import click

from sealkit import __version__, provenance
from sealkit.clients.kube.config import ClusterOptions, client_namespace
from sealkit.documents import Document, dump, load_documents
from sealkit.errors import CheckFailed, InputError, UnsealError
from sealkit.keys import KeyRing, load_private_keys
from sealkit.reading import decode_text, read_file
from sealkit.scope import Scope, scope_from_annotations
from sealkit.sealedsecret import is_sealed_secret
from sealkit.sealing import Target, check_name_flags, seal_secret
from sealkit.unsealing import unseal as unseal_object
from sealkit.validation import is_dns_label, namespace_problems
from sealkit.yamledit import replace_values, set_annotations
from sealkit_cli import io, sealflow
from sealkit_cli.certsource import certificate_bytes
from sealkit_cli.options import (
    SPECS,
    cluster_options,
    flatten,
    go_bool,
    kubeseal_env,
    option,
    warn,
    with_namespace,
)

YAML_SUFFIXES = (".yaml", ".yml")

DIFFERENCES = """\b
Where sealkit deliberately differs from kubeseal (clearer errors, nothing lost):
- Bad input is one line, `error: <what>: <where>`, exit status 2 (1: --validate found a
  SealedSecret that does not open); nothing waits on a terminal: no -f and a terminal on
  stdin is an error, not a prompt.
- Two modes at once (e.g. --raw with --validate) is an error; kubeseal runs the first.
- --raw refuses an empty stdin (a failed command before the pipe); --from-file /dev/null
  seals an empty value.
- --re-encrypt in place and --merge-into change only the sealed values: the file keeps
  its format (YAML or JSON), comments and layout. --merge-into seals the new items for
  the file's own name, namespace and scope.
- --name with several Secrets in the input is an error.
- A flag kubeseal would ignore is an error: -f with --raw (kubeseal seals stdin), -w with
  --merge-into (kubeseal rewrites the merged file), and --scope strict given for a Secret
  whose scope annotation is wider (kubeseal cannot tell it from its default and seals for
  the wider scope).
- Other flags a mode does not read (--cert with --re-encrypt, --scope with --merge-into, ...)
  are named in one warning when given on the command line; kubeseal ignores them silently.
- --raw checks --name and the namespace as the API server would (kubeseal seals a value
  no SealedSecret can open); --fetch-cert checks the certificate before writing it.
- Nothing is added to what kubeseal writes; a file sealkit stamped keeps its
  provenance annotation true (--merge-into, --re-encrypt).
- --recovery-unseal opens every SealedSecret in the input; its -w file is mode 0600.
  A wrapped key Secret (Key Vault) is refused with a pointer to `sealkit unseal`.
- --recovery-private-key without --recovery-unseal always warns (not only on a terminal).
- A SEALED_SECRETS_* value that does not parse is an error, not ignored.
- --request-timeout defaults to 30s (kubeseal: none; 0 still waits forever).
- klog's flags (-v, --vmodule, --logtostderr, ...) are accepted with a warning: no effect.
As in kubeseal, no --scope (strict by default) leaves a Secret's scope annotations in charge.
"""

# The flags each mode reads, of those a user may expect to matter (CHECKED_FLAGS); others given on the command
# line are named in a warning. -f with --raw and -w with --merge-into are errors (`Run._seal`).
CHECKED_FLAGS = ("cert", "fmt", "output_path", "input_path", "allow_empty_data", "name", "scope", "namespace")
MODE_FLAGS = {
    "--recovery-unseal": {"input_path", "output_path", "fmt", "namespace"},
    "--validate": {"input_path"},
    "--re-encrypt": {"input_path", "output_path", "fmt"},
    "--fetch-cert": {"cert", "output_path"},
    "--merge-into": {"cert", "input_path", "output_path"},
    "--raw": {"cert", "input_path", "output_path", "name", "scope", "namespace"},
}

# klog's flags, which kubeseal's --help lists: accepted so scripts keep working, without effect.
KLOG_VALUE_FLAGS = ("log_backtrace_at", "log_dir", "log_file", "log_file_max_size", "stderrthreshold", "vmodule")
KLOG_BOOL_FLAGS = ("add_dir_header", "alsologtostderr", "logtostderr", "one_output", "skip_headers", "skip_log_headers")


def _klog_options(func: Any) -> Any:
    for name in KLOG_VALUE_FLAGS:
        func = click.option(f"--{name}", f"klog_{name}", default=None, hidden=True)(func)
    for name in KLOG_BOOL_FLAGS:
        func = click.option(f"--{name}", f"klog_{name}", hidden=True, **go_bool(default=None))(func)
    return click.option("-v", "--v", "klog_v", default=None, hidden=True)(func)


def _annotations(obj: Any) -> dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def _print_version(ctx: click.Context, _: click.Parameter, value: bool | None) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"kubeseal version: {__version__}")
        ctx.exit(0)


def output_format(fmt: str | None, output_path: str | None) -> str:
    """kubeseal's rule: a -w file ending in .yaml/.yml means YAML whatever -o says; else -o (json)."""
    if output_path and output_path != "-" and Path(output_path).suffix in YAML_SUFFIXES:
        return "yaml"
    return (fmt or "json").lower()


@click.command("kubeseal", epilog=DIFFERENCES)
@option("cert", env=True, help="Certificate / public key file or http(s) URL to seal with; overrides --controller-*.")
@option("fmt", env=True, default="json", show_default=True, help="Output format: json or yaml.")
@option("output_path", env=True, help="Sealed-secret (output) file, written atomically on success.")
@option("input_path", env=True, default=None, help="Secret (input) file (default: stdin).")
@option("fetch_cert", env=True)
@option("allow_empty_data", env=True, help="Allow a Secret with empty data.")
@option("validate", env=True)
@option("merge_into", env=True)
@option("raw", env=True, help="Encrypt one value (from --from-file or stdin) instead of a whole Secret.")
@option("name", env=True, help="Name of the sealed secret (required with --raw and strict scope).")
@option(
    "from_file",
    env=True,
    help="Only with --raw: the value's file, kubectl's [key=]path syntax (only the path is used); exactly one.",
)
@option(
    "scope",
    env=True,
    default=None,
    help="strict, namespace-wide or cluster-wide (default strict, unless the input Secret's "
    "sealedsecrets.bitnami.com/cluster-wide or namespace-wide annotation says otherwise; --raw: strict).",
)
@option("re_encrypt", env=True)
@option("rotate", env=True, hidden=True)
@option("recovery_unseal", env=True)
@option("private_keys", env=True)
@option(
    "namespace",
    env=True,
    help="The namespace for a Secret that has none, and kubectl's namespace (default: the kubeconfig "
    "context's, else the pod's, else default).",
)
@cluster_options(env=True)
@_klog_options
@click.option(
    "--version",
    "version",
    envvar=kubeseal_env("version"),
    is_eager=True,
    expose_value=False,
    callback=_print_version,
    is_flag=True,
    help="Print version information and exit.",
)
def kubeseal(cluster: ClusterOptions, **flags: Any) -> None:
    """kubeseal's command line on sealkit: `alias kubeseal='sealkit kubeseal'` keeps scripts working.

    \b
    kubeseal -f mysecret.json -w mysealedsecret.json
    kubeseal --fetch-cert > mycert.pem; kubeseal --cert mycert.pem < secret.yaml > sealed.json
    kubeseal --scope cluster-wide < secret.yaml > sealed-secret.json
    kubeseal --merge-into mysealedsecret.json < another-secret.json
    echo -n foo | kubeseal --raw --namespace bar --name mysecret
    kubeseal --validate < sealed-secrets.yaml
    kubeseal --re-encrypt -f my_sealed_secret.json        # rewritten in place
    kubeseal --recovery-unseal --recovery-private-key a.key,b.key < sealed.json
    """
    Run(cluster, flags).main()


class Run:
    """One `sealkit kubeseal` invocation: its flags, then kubeseal's order of modes."""

    def __init__(self, cluster: ClusterOptions, flags: dict[str, Any]) -> None:
        self.flags = flags
        self.cluster = with_namespace(cluster, flags["namespace"])
        self.from_files = flatten(flags["from_file"])
        self.private_keys = flatten(flags["private_keys"])
        self.input_path: str = flags["input_path"] or "-"
        self.output_path: str | None = flags["output_path"] or None

    def main(self) -> None:
        f = self.flags
        self._warn_ignored()
        re_encrypt = bool(f["re_encrypt"] or f["rotate"])
        if self.from_files and not f["raw"]:
            raise InputError("--from-file requires --raw", where="--from-file")
        modes = [
            flag
            for flag, on in (
                ("--recovery-unseal", f["recovery_unseal"]),
                ("--validate", f["validate"]),
                ("--re-encrypt", re_encrypt),
                ("--fetch-cert", f["fetch_cert"]),
                ("--merge-into", f["merge_into"]),
                ("--raw", f["raw"]),
            )
            if on
        ]
        if len(modes) > 1:
            raise InputError("kubeseal does one of these per run; choose one", where=" and ".join(modes))
        self._warn_unused(modes[0] if modes else None)
        # --re-encrypt with only -f rewrites that file in place (kubeseal #405).
        in_place = re_encrypt and self.output_path is None and self.input_path != "-"
        fmt = output_format(f["fmt"], self.input_path if in_place else self.output_path)
        if f["recovery_unseal"]:
            self._recovery_unseal(fmt)
            return
        if self.private_keys:
            warn("ignoring --recovery-private-key because unseal command not chosen with --recovery-unseal")
        if f["validate"]:
            self._validate()
        elif re_encrypt:
            self._re_encrypt(fmt, in_place)
        else:
            self._seal(fmt)

    def _warn_ignored(self) -> None:
        f = self.flags
        if f["rotate"]:
            warn("--rotate has been deprecated, please use --re-encrypt instead")
        given = [name for name, value in f.items() if name.startswith("klog_") and value is not None]
        if given:
            flags = ", ".join("--" + name.removeprefix("klog_") for name in sorted(given))
            warn(f"{flags}: klog's logging flags have no effect in sealkit (it logs only its warnings and errors)")

    def _warn_unused(self, mode: str | None) -> None:
        """One warning naming the flags given on the command line that `mode` does not read (kubeseal ignores
        them without a word: --cert with --re-encrypt still seals with the controller's newest key)."""
        if mode is None:
            return
        context = click.get_current_context()
        given = [
            dest
            for dest in CHECKED_FLAGS
            if dest not in MODE_FLAGS[mode]
            and context.get_parameter_source(dest) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            flags = ", ".join(str(SPECS[dest].kubeseal) for dest in given)
            extra = " (the file's own name, namespace and scope are used)" if mode == "--merge-into" else ""
            warn(f"{flags}: no effect with {mode}{extra}")

    # --- the modes, in kubeseal's order ------------------------------------------------------------

    def _documents(self, what: str) -> list[Document]:
        data, source = io.read_input(self.input_path)
        documents = load_documents(data, source)
        if not documents:
            raise InputError(f"no {what} in the input", where=source)
        return documents

    def _sealed_documents(self) -> list[Document]:
        documents = self._documents("SealedSecret")
        for doc in documents:
            if not is_sealed_secret(doc.obj):
                raise InputError("not a bitnami.com/v1alpha1 SealedSecret", where=doc.where)
        return documents

    def _recovery_unseal(self, fmt: str) -> None:
        if not self.private_keys:
            raise InputError("no private keys: give --recovery-private-key FILE[,FILE...]", where="--recovery-unseal")
        from sealkit_cli.commands.unseal import refuse_stdin_twice

        inputs = [(self.input_path, "-f"), *((path, "--recovery-private-key") for path in self.private_keys)]
        refuse_stdin_twice(inputs)
        io.refuse_plaintext_over(self.output_path, inputs)
        ring = KeyRing()
        for path in self.private_keys:
            data, source = io.read_input(path)
            for key in load_private_keys(data, source, check_certificates=True):
                ring.add(key)
        namespace = self.cluster.overrides.namespace
        secrets = [
            unseal_object(doc.obj, ring, where=doc.where, default_namespace=namespace).secret
            for doc in self._documents("SealedSecret")
        ]
        io.write_output(dump(secrets, fmt), self.output_path, mode=0o600)

    def _proxy(self) -> Any:
        from sealkit.clients.kube.proxy import ControllerProxy, RateLimitedCaller

        return ControllerProxy(self.cluster).configure(), RateLimitedCaller(0.0)

    def _validate(self) -> None:
        from sealkit_cli.commands.verify import controller_verify

        documents = self._sealed_documents()
        check = controller_verify(*self._proxy())
        for doc in documents:
            try:
                check(doc)
            except UnsealError as exc:  # a check that failed (1), not bad input (2)
                raise CheckFailed(exc.what, where=exc.where) from None

    def _re_encrypt(self, fmt: str, in_place: bool) -> None:
        from sealkit_cli.commands.verify import controller_rotate, controller_sha256

        documents = self._sealed_documents()
        proxy, caller = self._proxy()
        rotate = controller_rotate(proxy, caller)
        edits = {doc.index: rotate(doc) or {} for doc in documents}
        # kubeseal adds nothing; a file sealkit stamped keeps true provenance (the controller's newest key).
        stamped = {doc.index for doc in documents if provenance.CERTIFICATE_ANNOTATION in _annotations(doc.obj)}
        sealed_with = {provenance.CERTIFICATE_ANNOTATION: controller_sha256(proxy)} if stamped else {}
        if in_place:
            path = Path(self.input_path)
            text = replace_values(decode_text(read_file(path), self.input_path), edits, self.input_path)
            for index in sorted(stamped):
                text = set_annotations(text, index, sealed_with, self.input_path)
            io.write_output(text, self.input_path, mode=path.stat().st_mode & 0o777, in_place=True)
            return
        rotated = []
        for doc in documents:
            obj = copy.deepcopy(doc.obj)
            obj["spec"]["encryptedData"] = edits[doc.index]
            if doc.index in stamped:
                obj["metadata"]["annotations"].update(sealed_with)
            rotated.append(obj)
        io.write_output(dump(rotated, fmt), self.output_path)

    def _seal(self, fmt: str) -> None:
        f = self.flags
        if f["merge_into"] and self.output_path is not None:  # kubeseal ignores -w here: the file is rewritten
            raise InputError("--merge-into rewrites its own file; -w is not written", where="--sealed-secret-file")
        if f["raw"] and f["input_path"] not in (None, "", "-"):  # kubeseal ignores -f and seals stdin
            raise InputError(
                "--raw does not read -f: give the value with --from-file or on stdin", where="--secret-file"
            )
        from sealkit.keys import load_certificate

        pem, source = certificate_bytes(f["cert"], self.cluster)
        # Checked before --fetch-cert writes it too: an error page, a Secret or an expired certificate saved as
        # cert.pem would only fail later, where it is used.
        certificate = load_certificate(pem, source)
        if f["fetch_cert"]:
            io.write_output(certificate.pem.decode(), self.output_path)
            return
        if f["merge_into"]:
            sealflow.merge_into(f["merge_into"], self.input_path, certificate, stamp=False)
            return
        if f["raw"]:
            io.write_output(sealflow.seal_raw(certificate, self.from_files, self._raw_target()), self.output_path)
            return
        documents = self._documents("Secret")
        if f["name"] and len(documents) > 1:
            what = f"--name applies to one Secret, the input has {len(documents)}"
            raise InputError(what, where=documents[0].source)
        # --scope strict is kubeseal's default: only a wider scope overrides the Secret's annotations.
        chosen = Scope(f["scope"]) if f["scope"] and f["scope"] != Scope.STRICT else None
        namespace = functools.cache(lambda: client_namespace(self.cluster))
        sealed = []
        for doc in documents:
            meta = doc.obj.get("metadata") if isinstance(doc.obj, dict) else None
            meta = meta if isinstance(meta, dict) else {}
            own = meta.get("namespace") or None
            own = own if isinstance(own, str) else None  # any other type: seal_secret refuses it by name
            annotations = meta.get("annotations")
            own_scope = scope_from_annotations(annotations if isinstance(annotations, dict) else None)
            if f["scope"] == Scope.STRICT and own_scope is not Scope.STRICT:
                # kubeseal cannot tell a given --scope strict from its default and seals for the wider scope.
                what = f"--scope strict, but the Secret's annotation makes it {own_scope.value}: remove one of them"
                raise InputError(what, where=doc.where)
            scope = chosen or own_scope
            if scope is Scope.CLUSTER_WIDE:  # the namespace is not in the label: only -n fills it in
                target_namespace = own or self.cluster.overrides.namespace
            else:
                ns, explicit = namespace()
                if not own and not explicit:
                    _check_context_namespace(ns)
                if explicit and own and own != ns:
                    what = f"namespace mismatch: the Secret is in namespace {own!r} but -n says {ns!r}"
                    if is_dns_label(own):
                        raise InputError(what, where=doc.where)
                    raise InputError(f"namespace mismatch with -n {ns!r}", where=doc.where)
                target_namespace = own or ns
            sealed.append(
                seal_secret(
                    doc.obj,
                    certificate,
                    scope=chosen,
                    name=f["name"],
                    # The Secret's own namespace is checked as its own (at the document), not as -n's.
                    namespace=None if own else target_namespace,
                    allow_empty_data=bool(f["allow_empty_data"]),
                    where=doc.where,
                )
            )
        io.write_output(dump(sealed, fmt), self.output_path)

    def _raw_target(self) -> Target:
        f = self.flags
        scope = Scope(f["scope"]) if f["scope"] else Scope.STRICT
        # A name or namespace the API server refuses seals a value no SealedSecret can ever open.
        check_name_flags(f["name"], self.cluster.overrides.namespace)
        if scope is Scope.CLUSTER_WIDE:
            return Target(scope, "", f["name"] or "")
        namespace, explicit = client_namespace(self.cluster)
        if scope is Scope.STRICT and not f["name"]:
            raise InputError("must provide the --name flag with --raw and --scope strict", where="--raw")
        if not explicit:
            _check_context_namespace(namespace)
        return Target(scope, namespace, f["name"] or "")


def _check_context_namespace(namespace: str) -> None:
    """The namespace taken from the kubeconfig context (no -n), checked as the API server checks one."""
    if problems := namespace_problems(namespace, "namespace"):
        raise InputError(problems[0].message, where="the kubeconfig context's namespace (no -n given)")
