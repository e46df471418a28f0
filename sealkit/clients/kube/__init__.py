"""The one Kubernetes client: configuration (`config`), JSON requests (`api`), the controller's HTTP API
through the API server's service proxy (`proxy`). `kubernetes` is imported inside functions only."""
