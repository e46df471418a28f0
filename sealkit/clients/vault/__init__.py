"""The one HashiCorp Vault client layer (hvac): how to log in (`auth`), hvac and HTTP failures read once
(`errors`), and reading secrets' key names for `sealkit csi verify` (`reader`).

hvac is imported inside functions only. Clients get an explicit address, token, CA and timeout (nothing
read implicitly from VAULT_* variables but what `auth` documents), follow no redirects and make no
retries. What leaves this package is plain data (`sealkit.csi.hashicorp.check` answers) or a one-line
`SealkitError`; secret values are dropped as soon as a response is read, and tokens and JWTs never
appear in a message.
"""
