"""`sealkit unseal`: disaster recovery without a cluster, from backed-up private keys.

Key files may hold wrapped key Secrets (docs/wrapped-keys.md): those are unwrapped through their Key Vault
key with the `--auth` options (the same as every other vault command); without that access it says so, and
which key it could not open. Plaintext keys need no vault at all.
"""

from __future__ import annotations

from typing import Any

import click

from sealkit.documents import dump, load_documents
from sealkit.errors import InputError
from sealkit.keys import KeyRing
from sealkit.unsealing import unseal as unseal_object
from sealkit_cli import io
from sealkit_cli.options import flatten, kek_client, option, vault_options, warn

OLD_INPUT_SPELLING = (
    "--sealed-secret-file names the input of `sealkit unseal` (an old spelling of -f); kubeseal and the "
    "other commands use it for the output file (-w): use -f/--file"
)


def refuse_stdin_twice(inputs: list[tuple[str, str]]) -> None:
    """stdin (`-`) given for two inputs (`--private-key -` and no -f): the first read takes it all and the second
    finds nothing, which read as "no SealedSecret in the input" or "no private key found" about a stream that
    held them. Refused naming both flags, before anything is read."""
    flags = [flag for path, flag in inputs if path == "-"]
    if len(flags) > 1:
        named = " and ".join(dict.fromkeys(flags)) if len(set(flags)) > 1 else f"{flags[0]} twice"
        raise InputError("stdin can be read once: give all but one of these as files", where=named)


def load_keyring(given: tuple[Any, ...], flag: str = "--private-key", vault: dict[str, Any] | None = None) -> KeyRing:
    """Every key of the files given; wrapped ones are unwrapped through the vault (`vault`: the vault options;
    commands without them say that a wrapped key needs vault access)."""
    from sealkit.keys import load_key_documents
    from sealkit.wrapping.keysecret import wrapped_from_secret
    from sealkit.wrapping.material import open_wrapped

    paths = flatten(given)
    if not paths:
        raise InputError("no private keys (give a PEM file, key Secret backup or v1 List)", where=flag)
    ring = KeyRing()
    wrapped = []
    for path in paths:
        data, source = io.read_input(path)
        # as `load_key_material` reads it, a certificate beside a key checked too (as `keys restore` checks it)
        documents = load_key_documents(data, source, check_certificates=True)
        for key in documents.keys:
            ring.add(key)
        wrapped += [wrapped_from_secret(obj, where) for obj, where in documents.wrapped]
    if wrapped:
        if vault is None:
            raise InputError(
                "a wrapped key; opening it needs access to its Key Vault key "
                "(sealkit unseal --private-key unwraps it with vault access)",
                where=wrapped[0].source,
            )
        options = vault
        for key in open_wrapped(wrapped, lambda: kek_client(options, None)):
            ring.add(key)
    return ring


@click.command("unseal")
@option("input_path", help="SealedSecret manifest(s): YAML (multi-document) or JSON; - for stdin.", show_default=True)
@click.option("--sealed-secret-file", "old_input_path", default=None, hidden=True)
@option(
    "output_path",
    exclude=("--sealed-secret-file",),
    help="Write the Secret(s) here (mode 0600, atomically) instead of stdout.",
)
@option("fmt", default=None, help="Output format: yaml or json (default: from the -w file's extension, else yaml).")
@option("private_keys")
@option("namespace", help="Namespace for SealedSecrets that have none.")
@vault_options
def unseal(
    input_path: str,
    old_input_path: str | None,
    output_path: str | None,
    fmt: str | None,
    private_keys: tuple[tuple[str, ...], ...],
    namespace: str | None,
    **vault: Any,
) -> None:
    """Open SealedSecret(s) with private keys: one Secret per input document, in order.

    \b
    kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml
    sealkit unseal --private-key keys.yaml -f sealed-secret.yaml -w secret.yaml
    Wrapped key Secrets (-l sealkit.io/wrapped-sealing-key) work the same, with unwrap access to their KEK
    (--auth and the other vault options).
    """
    if old_input_path is not None:
        warn(OLD_INPUT_SPELLING)
        input_path = old_input_path
    inputs = [(input_path, "-f"), *((path, "--private-key") for path in flatten(private_keys))]
    refuse_stdin_twice(inputs)
    io.refuse_plaintext_over(output_path, inputs)
    ring = load_keyring(private_keys, vault=vault)
    data, source = io.read_input(input_path)
    documents = load_documents(data, source)
    if not documents:
        raise InputError("no SealedSecret in the input", where=source)
    secrets = [unseal_object(doc.obj, ring, where=doc.where, default_namespace=namespace).secret for doc in documents]
    io.write_output(dump(secrets, io.output_format(fmt, output_path)), output_path, mode=0o600)
