#!/usr/bin/env bash
# The main job on a built-in default: the whole sealkit flow, no cluster or Azure needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
exec sealkit demo "$@"
