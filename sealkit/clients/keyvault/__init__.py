"""The one Azure Key Vault client layer: credentials (`credentials`), SDK clients (`sdk`), SDK errors
read once (`errors`), and the two uses: reading object attributes for `sealkit csi` (`reader`) and
escrowed sealing keys for the controller and `sealkit keys` (`escrow`).

azure-identity and the Key Vault SDKs cost ~0.5 s to import: they are imported inside functions only.
Clients and credentials are built with `retry_total=0` and short timeouts (the SDK's own patience is
wrong for CI and for a controller); throttling is retried by `sealkit.retry`. A later wrap/unwrap client
(azure-keyvault-keys) belongs beside `sdk.secret_client`.
"""
