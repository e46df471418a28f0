"""Local keyvault test server."""
