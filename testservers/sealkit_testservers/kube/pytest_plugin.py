"""Pytest fixtures for the kube test server (filled by its issue)."""
