"""The clients of outside services: one per service, the only code that imports their SDKs.

- `sealkit.clients.kube`: the Kubernetes API (kubeconfig or in-cluster, JSON requests with timeouts,
  the controller's HTTP API through the API server's service proxy), for the CLI and the controller.
- `sealkit.clients.keyvault`: Azure Key Vault (credential selection, SDK clients, SDK errors mapped
  once), for `sealkit csi`, `sealkit keys` and the controller's key escrow.

Every SDK (`kubernetes`, `azure.*`) is imported inside functions, so importing a client module costs
nothing until a call needs the service. Failures leave as `sealkit.errors.SealkitError` subclasses
with one line each; throttling is retried by the one policy in `sealkit.retry`.
"""
