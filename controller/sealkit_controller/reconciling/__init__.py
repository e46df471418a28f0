"""Reconciling: SealedSecrets in, Secrets out.

`reconciler` takes the watch events and runs one attempt per queued object; `ownership` decides whether
and how a Secret may be written, `provenance` records what a Secret was made from (so in-sync objects
cost no RSA), `status` writes the SealedSecret's conditions, and `selectors` scopes what is watched.
"""
