"""Local kube test server."""
