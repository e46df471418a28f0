"""Pytest fixtures for the keyvault test server (filled by its issue)."""
