#!/usr/bin/env bash
# The test suite, after installing everything it needs (venv, packages, helm).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
cd "$root"
exec python -m pytest "$@"
