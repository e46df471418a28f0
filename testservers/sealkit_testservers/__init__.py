"""Local stand-ins for the servers sealkit talks to: a Kubernetes API emulator and an Azure Key Vault.

Installed with the `testing` extra; the test-suite and the README demo run on them.
"""
