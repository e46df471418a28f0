"""Serving: the HTTP API on :8080 (`httpapi`: healthz, cert, verify, rotate), the Prometheus metrics on
:8081 (`metrics`), and the two listeners started and stopped with the controller (`servers`)."""
